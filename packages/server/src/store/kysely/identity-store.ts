import type { Selectable } from 'kysely'
import type { Identity, IdentityStore } from '../identity-store.ts'
import type { IdentitiesTable } from '../tables/identities.ts'
import { affected, type Executor } from './executor.ts'

export class KyselyIdentityStore implements IdentityStore {
  readonly #db: Executor
  constructor(db: Executor) {
    this.#db = db
  }

  async find(tenantId: string, provider: string, subject: string): Promise<Identity | undefined> {
    const row = await this.#db
      .selectFrom('identities')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('provider', '=', provider)
      .where('subject', '=', subject)
      .executeTakeFirst()
    return row && toIdentity(row)
  }

  async listForProfile(tenantId: string, profileId: string): Promise<Identity[]> {
    const rows = await this.#db
      .selectFrom('identities')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('profile_id', '=', profileId)
      .orderBy('id')
      .execute()
    return rows.map(toIdentity)
  }

  async createIfAbsent(identity: Identity): Promise<boolean> {
    const inserted = await this.#db
      .insertInto('identities')
      .values({
        id: identity.id,
        tenant_id: identity.tenantId,
        provider: identity.provider,
        subject: identity.subject,
        profile_id: identity.profileId,
        created_at: identity.createdAt,
      })
      .onConflict((conflict) => conflict.columns(['tenant_id', 'provider', 'subject']).doNothing())
      .returning('id')
      .executeTakeFirst()
    return inserted !== undefined
  }

  async delete(tenantId: string, provider: string, subject: string): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('identities')
      .where('tenant_id', '=', tenantId)
      .where('provider', '=', provider)
      .where('subject', '=', subject)
      .executeTakeFirst()
    return affected(result) > 0
  }
}

function toIdentity(row: Selectable<IdentitiesTable>): Identity {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    provider: row.provider,
    subject: row.subject,
    profileId: row.profile_id,
    createdAt: row.created_at,
  }
}
