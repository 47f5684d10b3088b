import type { Kysely } from 'kysely'

/** Profile attributes: JSON values by name, deleted with their profile. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('profile_attributes')
    .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('profile_id', 'varchar(64)', (c) => c.notNull().references('profiles.id').onDelete('cascade'))
    .addColumn('name', 'varchar(64)', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('profile_attributes_pk', ['profile_id', 'name'])
    .execute()
}
