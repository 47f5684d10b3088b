import type { Kysely } from 'kysely'

/** The `UnlockToken` a device sent in `TokenUpdate`, sealed with the master key; null: none. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('apple_enrollments').addColumn('unlock_token', 'text').execute()
}
