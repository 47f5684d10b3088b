import type { Selectable } from 'kysely'
import type { Client, ClientPatch, ClientStore } from '../client-store.ts'
import type { ClientsTable } from '../tables/clients.ts'
import { affected, type Executor, optional } from './executor.ts'

export class KyselyClientStore implements ClientStore {
  readonly #db: Executor
  constructor(db: Executor) {
    this.#db = db
  }

  async get(tenantId: string, clientId: string): Promise<Client | undefined> {
    const row = await this.#db
      .selectFrom('clients')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('client_id', '=', clientId)
      .executeTakeFirst()
    return row && toClient(row)
  }

  async list(tenantId: string): Promise<Client[]> {
    const rows = await this.#db
      .selectFrom('clients')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .orderBy('client_id')
      .execute()
    return rows.map(toClient)
  }

  async create(client: Client): Promise<void> {
    await this.#db
      .insertInto('clients')
      .values({
        tenant_id: client.tenantId,
        client_id: client.clientId,
        name: client.name,
        type: client.type,
        secret_hash: client.secretHash ?? null,
        grant_types: JSON.stringify(client.grantTypes),
        scopes: JSON.stringify(client.scopes),
        redirect_uris: JSON.stringify(client.redirectUris),
        web_origins: JSON.stringify(client.webOrigins),
        app_policy: client.appPolicy ? JSON.stringify(client.appPolicy) : null,
        pkce_required: client.pkceRequired ? 1 : 0,
        created_at: client.createdAt,
      })
      .execute()
  }

  async update(tenantId: string, clientId: string, patch: ClientPatch): Promise<boolean> {
    const values = {
      ...(patch.name !== undefined && { name: patch.name }),
      ...(patch.secretHash !== undefined && { secret_hash: patch.secretHash }),
      ...(patch.grantTypes !== undefined && { grant_types: JSON.stringify(patch.grantTypes) }),
      ...(patch.scopes !== undefined && { scopes: JSON.stringify(patch.scopes) }),
      ...(patch.redirectUris !== undefined && { redirect_uris: JSON.stringify(patch.redirectUris) }),
      ...(patch.webOrigins !== undefined && { web_origins: JSON.stringify(patch.webOrigins) }),
      ...('appPolicy' in patch && { app_policy: patch.appPolicy ? JSON.stringify(patch.appPolicy) : null }),
      ...(patch.pkceRequired !== undefined && { pkce_required: patch.pkceRequired ? 1 : 0 }),
    }
    // An empty SET is a syntax error: with nothing to change, report whether the client exists.
    if (Object.keys(values).length === 0) return (await this.get(tenantId, clientId)) !== undefined
    const result = await this.#db
      .updateTable('clients')
      .set(values)
      .where('tenant_id', '=', tenantId)
      .where('client_id', '=', clientId)
      .executeTakeFirst()
    return affected(result) > 0
  }

  async delete(tenantId: string, clientId: string): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('clients')
      .where('tenant_id', '=', tenantId)
      .where('client_id', '=', clientId)
      .executeTakeFirst()
    return affected(result) > 0
  }
}

function toClient(row: Selectable<ClientsTable>): Client {
  return {
    tenantId: row.tenant_id,
    clientId: row.client_id,
    name: row.name,
    type: row.type,
    secretHash: optional(row.secret_hash),
    grantTypes: JSON.parse(row.grant_types),
    scopes: JSON.parse(row.scopes),
    redirectUris: JSON.parse(row.redirect_uris),
    webOrigins: JSON.parse(row.web_origins),
    appPolicy: row.app_policy ? JSON.parse(row.app_policy) : undefined,
    pkceRequired: row.pkce_required === 1,
    createdAt: row.created_at,
  }
}
