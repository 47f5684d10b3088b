import type { Kysely } from 'kysely'

/**
 * A tenant's MDM push certificate for APNs: the certificate (PEM), its private key (PKCS #8 PEM
 * sealed with the master key) and the APNs environment; all null until an administrator sets one.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('apple_configs').addColumn('push_certificate', 'text').execute()
  await db.schema.alterTable('apple_configs').addColumn('push_private_key', 'text').execute()
  await db.schema.alterTable('apple_configs').addColumn('push_environment', 'varchar(16)').execute()
}
