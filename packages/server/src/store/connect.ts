import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import {
  type CompiledQuery,
  type DatabaseConnection,
  Kysely,
  PostgresDialect,
  type QueryResult,
} from 'kysely'
import { Migrator } from 'kysely/migration'
import pg from 'pg'
import { AppError } from '../errors/app-error.ts'
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
    const dialect = new PostgresDialect({ pool, onCreateConnection: async (c) => refuseUnstorableText(c) })
    return { db: new Kysely<Database>({ dialect }), dialect: 'postgres' }
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

/** PostgreSQL's character_not_in_repertoire, its answer to a NUL character in a text value. */
const characterNotInRepertoire = '22021'

/**
 * A text with a NUL character, which SQLite keeps and PostgreSQL cannot hold, is the request's
 * fault wherever it came from: invalid input, not a failure of the database. Ids and names are
 * refused before they get here; this is the one place that catches the rest.
 */
function refuseUnstorableText(connection: DatabaseConnection): void {
  const execute = connection.executeQuery.bind(connection)
  connection.executeQuery = async <R>(query: CompiledQuery): Promise<QueryResult<R>> => {
    try {
      return await execute<R>(query)
    } catch (error) {
      if ((error as { code?: unknown }).code !== characterNotInRepertoire) throw error
      throw new AppError('invalid_input', 'text with a NUL character cannot be stored')
    }
  }
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
