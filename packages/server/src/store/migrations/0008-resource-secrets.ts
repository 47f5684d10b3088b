import type { Kysely } from 'kysely'

/** A resource's secret (SHA-256, like clients'), with which it calls `/introspect`; null: none. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('resources').addColumn('secret_hash', 'varchar(64)').execute()
}
