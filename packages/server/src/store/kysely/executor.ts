import type { Kysely, Transaction } from 'kysely'
import type { Database } from '../database.ts'

/** A connection or an open transaction: stores run the same queries on either. */
export type Executor = Kysely<Database> | Transaction<Database>

export function affected(result: { numUpdatedRows?: bigint; numDeletedRows?: bigint }): number {
  return Number(result.numUpdatedRows ?? result.numDeletedRows ?? 0n)
}

export function optional<T>(value: T | null): T | undefined {
  return value === null ? undefined : value
}
