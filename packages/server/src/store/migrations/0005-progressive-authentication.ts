import { type Kysely, sql } from 'kysely'

/**
 * Progressive authentication: identities linked to profiles, local (email and password)
 * accounts, authorization codes, when an anonymous profile was attached to an identity, and the
 * tenants' merge policy (`none` for the tenants that exist).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('identities')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('provider', 'varchar(128)', (c) => c.notNull())
    .addColumn('subject', 'varchar(512)', (c) => c.notNull())
    .addColumn('profile_id', 'varchar(64)', (c) => c.notNull().references('profiles.id').onDelete('cascade'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('identities_subject', ['tenant_id', 'provider', 'subject'])
    .execute()
  await db.schema.createIndex('identities_profile').on('identities').column('profile_id').execute()

  await db.schema
    .createTable('local_accounts')
    .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('email', 'varchar(320)', (c) => c.notNull())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('local_accounts_pk', ['tenant_id', 'email'])
    .execute()

  await db.schema
    .createTable('authorization_codes')
    .addColumn('code_id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('code_hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('client_id', 'varchar(128)', (c) => c.notNull())
    .addColumn('redirect_uri', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('code_challenge', 'varchar(128)')
    .addColumn('code_challenge_method', 'varchar(16)')
    .addColumn('dpop_jkt', 'varchar(64)')
    .addColumn('provider', 'varchar(128)', (c) => c.notNull())
    .addColumn('subject', 'varchar(512)', (c) => c.notNull())
    .addColumn('acr', 'varchar(32)', (c) => c.notNull())
    .addColumn('amr', 'text', (c) => c.notNull())
    .addColumn('auth_time', 'bigint', (c) => c.notNull())
    .addColumn('anonymous_profile_id', 'varchar(64)')
    .addColumn('anonymous_grant_id', 'varchar(64)')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .addColumn('grant_id', 'varchar(64)')
    .execute()
  await db.schema
    .createIndex('authorization_codes_expiry')
    .on('authorization_codes')
    .column('expires_at')
    .execute()

  await db.schema.alterTable('profiles').addColumn('attached_at', 'bigint').execute()

  const tenants = await sql<{ id: string; settings: string }>`select id, settings from tenants`.execute(db)
  for (const { id, settings } of tenants.rows) {
    const updated = JSON.stringify({ mergePolicy: 'none', ...JSON.parse(settings) })
    await sql`update tenants set settings = ${updated} where id = ${id}`.execute(db)
  }
}
