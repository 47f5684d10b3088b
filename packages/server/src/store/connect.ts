import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { Kysely, PostgresDialect } from 'kysely'
import { Migrator } from 'kysely/migration'
import pg from 'pg'
import type { Database } from './database.ts'
import { migrationProvider } from './migrations/index.ts'
import { NodeSqliteDialect } from './node-sqlite-dialect.ts'

export type Dialect = 'sqlite' | 'postgres'

export interface DatabaseHandle {
  db: Kysely<Database>
  dialect: Dialect
}

// int8 columns hold epoch seconds: well inside the safe integer range.
pg.types.setTypeParser(pg.types.builtins.INT8, Number)

/** Opens PostgreSQL when a URL is given, else SQLite (`:memory:` or `{dataDir}/onramp.db`). */
export function openDatabase(options: { databaseUrl?: string; sqlitePath?: string }): DatabaseHandle {
  if (options.databaseUrl) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 10 })
    return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), dialect: 'postgres' }
  }
  const path = options.sqlitePath ?? ':memory:'
  const writer = new DatabaseSync(path)
  writer.exec(
    'PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA cache_size = -32768; PRAGMA temp_store = MEMORY;',
  )
  // A second connection for reads, once the file is in WAL mode; `:memory:` would be another database.
  let reader: DatabaseSync | undefined
  if (path !== ':memory:') {
    reader = new DatabaseSync(path)
    reader.exec('PRAGMA query_only = ON; PRAGMA busy_timeout = 5000; PRAGMA cache_size = -32768;')
  }
  return { db: new Kysely<Database>({ dialect: new NodeSqliteDialect(writer, reader) }), dialect: 'sqlite' }
}

export function sqlitePathIn(dataDir: string): string {
  mkdirSync(dataDir, { recursive: true })
  return join(dataDir, 'onramp.db')
}

/** Applies every pending migration; returns the names applied. */
export async function migrateToLatest(db: Kysely<Database>): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: migrationProvider,
    migrationTableName: 'onramp_migrations',
    migrationLockTableName: 'onramp_migrations_lock',
  })
  const { error, results } = await migrator.migrateToLatest()
  if (error) throw error
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName)
}
