import type { Kysely } from 'kysely'

/**
 * What people and administrators tell passkeys apart by: a name the person gave it, the
 * authenticator's AAGUID and whether the credential can be synced (WebAuthn's backup
 * eligibility). Null for passkeys made before: nothing was recorded then.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('passkey_credentials').addColumn('name', 'varchar(64)').execute()
  await db.schema.alterTable('passkey_credentials').addColumn('aaguid', 'varchar(36)').execute()
  await db.schema.alterTable('passkey_credentials').addColumn('device_type', 'varchar(16)').execute()
}
