import type { Kysely } from 'kysely'

/** Origins whose browser pages may call a tenant's endpoints (CORS), per client. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('clients')
    .addColumn('web_origins', 'text', (c) => c.notNull().defaultTo('[]'))
    .execute()
}
