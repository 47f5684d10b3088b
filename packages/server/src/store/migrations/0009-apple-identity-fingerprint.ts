import type { Kysely } from 'kysely'

/**
 * The SHA-256 fingerprint (hexadecimal) of the identity certificate issued with an Apple
 * enrollment's profile; null for enrollments whose profile did not ask for signed messages.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('apple_enrollments').addColumn('identity_sha256', 'varchar(64)').execute()
}
