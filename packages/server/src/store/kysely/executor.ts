import { CompiledQuery, type Insertable, type Kysely, type Transaction } from 'kysely'
import type { Database } from '../database.ts'

/** A connection or an open transaction: stores run the same queries on either. */
export type Executor = Kysely<Database> | Transaction<Database>

export function affected(result: { numUpdatedRows?: bigint; numDeletedRows?: bigint }): number {
  return Number(result.numUpdatedRows ?? result.numDeletedRows ?? 0n)
}

export function optional<T>(value: T | null): T | undefined {
  return value === null ? undefined : value
}

const insertStatements = new Map<string, string>()

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
  const key = `${db.getExecutor().adapter.constructor.name} ${table} ${columns.join(',')}`
  let sql = insertStatements.get(key)
  if (sql === undefined) {
    sql = db
      .insertInto(table)
      .values(row as never)
      .compile().sql
    insertStatements.set(key, sql)
  }
  await db.executeQuery(CompiledQuery.raw(sql, values))
}
