import type { Kysely } from 'kysely'

/**
 * Refresh tokens become `{token_id}.{secret}`: rows are keyed by a time-ordered id, so a new
 * token is appended to the table instead of landing on a random page of a hash index, and the
 * secret is checked against its hash. Tokens issued before this version stop working (the
 * project had no release then).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('refresh_tokens').execute()
  await db.schema
    .createTable('refresh_tokens')
    .addColumn('token_id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('token_hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('grant_id', 'varchar(64)', (c) => c.notNull().references('grants.id').onDelete('cascade'))
    .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .execute()
  await db.schema.createIndex('refresh_tokens_grant').on('refresh_tokens').column('grant_id').execute()
}
