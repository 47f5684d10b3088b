import type { Kysely } from 'kysely'

/** Passkeys: WebAuthn credentials of the hosted login, each signing in as one `passkey` identity. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('passkey_credentials')
    .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('credential_id', 'varchar(1400)', (c) => c.notNull())
    .addColumn('user_handle', 'varchar(128)', (c) => c.notNull())
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('counter', 'bigint', (c) => c.notNull())
    .addColumn('transports', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    .addPrimaryKeyConstraint('passkey_credentials_pk', ['tenant_id', 'credential_id'])
    .execute()
  await db.schema
    .createIndex('passkey_credentials_user')
    .on('passkey_credentials')
    .columns(['tenant_id', 'user_handle'])
    .execute()
}
