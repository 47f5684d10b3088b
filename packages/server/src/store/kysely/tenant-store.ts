import type { Selectable } from 'kysely'
import type { TenantsTable } from '../tables/tenants.ts'
import type { Tenant, TenantStore } from '../tenant-store.ts'
import { affected, type Executor } from './executor.ts'

export class KyselyTenantStore implements TenantStore {
  readonly #db: Executor
  constructor(db: Executor) {
    this.#db = db
  }

  async get(id: string): Promise<Tenant | undefined> {
    const row = await this.#db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst()
    return row && toTenant(row)
  }

  async list(): Promise<Tenant[]> {
    const rows = await this.#db.selectFrom('tenants').selectAll().orderBy('id').execute()
    return rows.map(toTenant)
  }

  async create(tenant: Tenant): Promise<void> {
    await this.#db
      .insertInto('tenants')
      .values({
        id: tenant.id,
        name: tenant.name,
        settings: JSON.stringify(tenant.settings),
        created_at: tenant.createdAt,
      })
      .execute()
  }

  async update(id: string, patch: { name?: string; settings?: Tenant['settings'] }): Promise<boolean> {
    const values = {
      ...(patch.name !== undefined && { name: patch.name }),
      ...(patch.settings !== undefined && { settings: JSON.stringify(patch.settings) }),
    }
    // An empty SET is a syntax error: with nothing to change, report whether the tenant exists.
    if (Object.keys(values).length === 0) return (await this.get(id)) !== undefined
    const result = await this.#db.updateTable('tenants').set(values).where('id', '=', id).executeTakeFirst()
    return affected(result) > 0
  }

  async delete(id: string): Promise<boolean> {
    return affected(await this.#db.deleteFrom('tenants').where('id', '=', id).executeTakeFirst()) > 0
  }
}

function toTenant(row: Selectable<TenantsTable>): Tenant {
  return { id: row.id, name: row.name, settings: JSON.parse(row.settings), createdAt: row.created_at }
}
