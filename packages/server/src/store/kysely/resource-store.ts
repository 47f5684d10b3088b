import type { Selectable } from 'kysely'
import type { Resource, ResourcePatch, ResourceStore } from '../resource-store.ts'
import type { ResourcesTable } from '../tables/resources.ts'
import { affected, type Executor, optional } from './executor.ts'

export class KyselyResourceStore implements ResourceStore {
  readonly #db: Executor
  constructor(db: Executor) {
    this.#db = db
  }

  async get(tenantId: string, audience: string): Promise<Resource | undefined> {
    const row = await this.#db
      .selectFrom('resources')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('audience', '=', audience)
      .executeTakeFirst()
    return row && toResource(row)
  }

  async list(tenantId: string): Promise<Resource[]> {
    const rows = await this.#db
      .selectFrom('resources')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .orderBy('audience')
      .execute()
    return rows.map(toResource)
  }

  async create(resource: Resource): Promise<void> {
    await this.#db
      .insertInto('resources')
      .values({
        tenant_id: resource.tenantId,
        audience: resource.audience,
        name: resource.name,
        scopes: JSON.stringify(resource.scopes),
        policy: JSON.stringify(resource.policy),
        access_token_ttl: resource.accessTokenTtl ?? null,
        secret_hash: resource.secretHash ?? null,
        created_at: resource.createdAt,
      })
      .execute()
  }

  async update(tenantId: string, audience: string, patch: ResourcePatch): Promise<boolean> {
    const values = {
      ...(patch.name !== undefined && { name: patch.name }),
      ...(patch.scopes !== undefined && { scopes: JSON.stringify(patch.scopes) }),
      ...(patch.policy !== undefined && { policy: JSON.stringify(patch.policy) }),
      ...('accessTokenTtl' in patch && { access_token_ttl: patch.accessTokenTtl ?? null }),
      ...('secretHash' in patch && { secret_hash: patch.secretHash ?? null }),
    }
    // An empty SET is a syntax error: with nothing to change, report whether the resource exists.
    if (Object.keys(values).length === 0) return (await this.get(tenantId, audience)) !== undefined
    const result = await this.#db
      .updateTable('resources')
      .set(values)
      .where('tenant_id', '=', tenantId)
      .where('audience', '=', audience)
      .executeTakeFirst()
    return affected(result) > 0
  }

  async delete(tenantId: string, audience: string): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('resources')
      .where('tenant_id', '=', tenantId)
      .where('audience', '=', audience)
      .executeTakeFirst()
    return affected(result) > 0
  }
}

function toResource(row: Selectable<ResourcesTable>): Resource {
  return {
    tenantId: row.tenant_id,
    audience: row.audience,
    name: row.name,
    scopes: JSON.parse(row.scopes),
    policy: JSON.parse(row.policy),
    accessTokenTtl: optional(row.access_token_ttl),
    secretHash: optional(row.secret_hash),
    createdAt: row.created_at,
  }
}
