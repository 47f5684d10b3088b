import { type Compilable, CompiledQuery, type Insertable, type Kysely, type Transaction } from 'kysely'
import type { Database } from '../database.ts'

/** A connection or an open transaction: stores run the same queries on either. */
export type Executor = Kysely<Database> | Transaction<Database>

export function affected(result: { numUpdatedRows?: bigint; numDeletedRows?: bigint }): number {
  return Number(result.numUpdatedRows ?? result.numDeletedRows ?? 0n)
}

export function optional<T>(value: T | null): T | undefined {
  return value === null ? undefined : value
}

const compiledStatements = new Map<string, string>()

/** The SQL text `build` compiles to on `db`'s dialect, compiled on first use under `name`. */
function compiledOnce(db: Executor, name: string, build: () => Compilable): string {
  const key = `${db.getExecutor().adapter.constructor.name} ${name}`
  let sql = compiledStatements.get(key)
  if (sql === undefined) {
    sql = build().compile().sql
    compiledStatements.set(key, sql)
  }
  return sql
}

/**
 * Runs a hot query compiled once: `build` makes it with placeholder values, and `parameters` are
 * bound in the order the query names them. For reads on every token request, where building and
 * compiling cost more than SQLite's lookup.
 */
export async function runCompiled<Row>(
  db: Executor,
  name: string,
  build: () => Compilable<Row>,
  parameters: readonly unknown[],
): Promise<Row[]> {
  const result = await db.executeQuery<Row>(CompiledQuery.raw(compiledOnce(db, name, build), [...parameters]))
  return result.rows
}

/**
 * Inserts one row with SQL compiled once per dialect, table and column list. Enrollment writes four
 * rows, and building and compiling each insert cost more than the database's own work; the text is
 * what Kysely compiles for the same row, so only the values change from call to call.
 */
export async function insertRow<T extends keyof Database & string>(
  db: Executor,
  table: T,
  row: Insertable<Database[T]>,
): Promise<void> {
  const columns = Object.keys(row)
  const values = Object.values(row)
  // Kysely leaves undefined values out of the column list; such rows take the ordinary path.
  if (values.includes(undefined)) {
    await db
      .insertInto(table)
      .values(row as never)
      .execute()
    return
  }
  const sql = compiledOnce(db, `insert ${table} ${columns.join(',')}`, () =>
    db.insertInto(table).values(row as never),
  )
  await db.executeQuery(CompiledQuery.raw(sql, values))
}
