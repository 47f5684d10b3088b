import type { DatabaseSync, StatementSync } from 'node:sqlite'
import type { SqliteDatabase, SqliteStatement } from 'kysely'

/**
 * Presents `node:sqlite` as the better-sqlite3 interface Kysely's SqliteDialect expects.
 * Prepared statements are cached by SQL text: Kysely compiles the same text for the same query.
 */
export function adaptNodeSqlite(db: DatabaseSync): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>()
  return {
    close: () => db.close(),
    prepare(sql: string): SqliteStatement {
      let statement = cache.get(sql)
      if (!statement) {
        statement = adaptStatement(db.prepare(sql))
        if (cache.size > 500) cache.clear()
        cache.set(sql, statement)
      }
      return statement
    },
  }
}

function adaptStatement(statement: StatementSync): SqliteStatement {
  const reader = statement.columns().length > 0
  return {
    reader,
    all: (parameters) => statement.all(...(parameters as never[])),
    run: (parameters) => statement.run(...(parameters as never[])),
    iterate: (parameters) => statement.iterate(...(parameters as never[])),
  }
}
