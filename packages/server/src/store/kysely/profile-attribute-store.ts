import { sql } from 'kysely'
import type {
  ProfileAttribute,
  ProfileAttributeStore,
  ProfileAttributeUsage,
} from '../profile-attribute-store.ts'
import { affected, type Executor } from './executor.ts'

export class KyselyProfileAttributeStore implements ProfileAttributeStore {
  readonly #db: Executor
  constructor(db: Executor) {
    this.#db = db
  }

  async list(tenantId: string, profileId: string): Promise<ProfileAttribute[]> {
    const rows = await this.#db
      .selectFrom('profile_attributes')
      .select(['name', 'value', 'updated_at'])
      .where('profile_id', '=', profileId)
      .where('tenant_id', '=', tenantId)
      .execute()
    // Sorted here: ORDER BY follows the database's collation, which differs between dialects.
    return rows
      .map((row) => ({ name: row.name, value: row.value, updatedAt: row.updated_at }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }

  async get(tenantId: string, profileId: string, name: string): Promise<ProfileAttribute | undefined> {
    const row = await this.#db
      .selectFrom('profile_attributes')
      .select(['name', 'value', 'updated_at'])
      .where('profile_id', '=', profileId)
      .where('name', '=', name)
      .where('tenant_id', '=', tenantId)
      .executeTakeFirst()
    return row && { name: row.name, value: row.value, updatedAt: row.updated_at }
  }

  async put(tenantId: string, profileId: string, attribute: ProfileAttribute): Promise<void> {
    const size = Buffer.byteLength(attribute.value, 'utf8')
    await this.#db
      .insertInto('profile_attributes')
      .values({
        tenant_id: tenantId,
        profile_id: profileId,
        name: attribute.name,
        value: attribute.value,
        size,
        updated_at: attribute.updatedAt,
      })
      .onConflict((conflict) =>
        conflict
          .columns(['profile_id', 'name'])
          .doUpdateSet({ value: attribute.value, size, updated_at: attribute.updatedAt })
          // A profile id of another tenant never gets its row overwritten.
          .where('profile_attributes.tenant_id', '=', tenantId),
      )
      .execute()
  }

  async delete(tenantId: string, profileId: string, name: string): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('profile_attributes')
      .where('profile_id', '=', profileId)
      .where('name', '=', name)
      .where('tenant_id', '=', tenantId)
      .executeTakeFirst()
    return affected(result) > 0
  }

  async deleteAll(tenantId: string, profileId: string): Promise<number> {
    const result = await this.#db
      .deleteFrom('profile_attributes')
      .where('profile_id', '=', profileId)
      .where('tenant_id', '=', tenantId)
      .executeTakeFirst()
    return affected(result)
  }

  async usage(tenantId: string, profileId: string): Promise<ProfileAttributeUsage> {
    const row = await this.#db
      .selectFrom('profile_attributes')
      .select([
        sql<number | string>`count(*)`.as('count'),
        sql<number | string>`coalesce(sum(size), 0)`.as('bytes'),
      ])
      .where('profile_id', '=', profileId)
      .where('tenant_id', '=', tenantId)
      .executeTakeFirstOrThrow()
    return { count: Number(row.count), bytes: Number(row.bytes) }
  }
}
