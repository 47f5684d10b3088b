import type { Command } from '../command.ts'

export const migrateCommand: Command = {
  summary: 'apply pending database migrations (the server also does at start)',
  async run(context) {
    const config = context.config()
    const { migrateToLatest, openDatabase, sqlitePathIn } = await import('../../store/connect.ts')
    const { db } = openDatabase(
      config.databaseUrl ? { databaseUrl: config.databaseUrl } : { sqlitePath: sqlitePathIn(config.dataDir) },
    )
    try {
      const applied = await migrateToLatest(db)
      context.out.result({ applied }, () =>
        applied.length === 0
          ? 'The database is up to date.'
          : applied.map((name) => `Applied migration ${name}`).join('\n'),
      )
    } finally {
      await db.destroy()
    }
  },
}
