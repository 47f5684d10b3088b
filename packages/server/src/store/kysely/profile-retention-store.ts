import { type ExpressionBuilder, PostgresAdapter, sql } from 'kysely'
import type { Database } from '../database.ts'
import type { ProfileFootprint, ProfileRetentionStore, ProfileSelection } from '../profile-retention-store.ts'
import { affected, type Executor } from './executor.ts'

const nothing: ProfileFootprint = { profiles: 0, devices: 0, grants: 0, refreshTokens: 0, attributes: 0 }

export class KyselyProfileRetentionStore implements ProfileRetentionStore {
  readonly #db: Executor
  constructor(db: Executor) {
    this.#db = db
  }

  async countInactive(tenantId: string, before: number): Promise<number> {
    const row = await this.#db
      .selectFrom('profiles')
      .select(sql<number | string>`count(*)`.as('n'))
      .where('tenant_id', '=', tenantId)
      .where('kind', '=', 'anonymous')
      .where('last_active_at', '<', before)
      .executeTakeFirstOrThrow()
    return Number(row.n)
  }

  async claimInactive(tenantId: string, before: number, limit: number): Promise<string[]> {
    // SQLite runs one writer at a time and has no row locks; PostgreSQL claims the rows.
    const locks = this.#db.getExecutor().adapter instanceof PostgresAdapter
    const rows = await this.#db
      .selectFrom('profiles')
      .select('id')
      .where('tenant_id', '=', tenantId)
      .where('kind', '=', 'anonymous')
      .where('last_active_at', '<', before)
      .orderBy('last_active_at')
      .limit(limit)
      .$if(locks, (query) => query.forUpdate().skipLocked())
      .execute()
    return rows.map((row) => row.id)
  }

  async footprint(tenantId: string, selection: ProfileSelection): Promise<ProfileFootprint> {
    if ('ids' in selection && selection.ids.length === 0) return nothing
    const selected = (eb: ExpressionBuilder<Database, 'profiles'>) =>
      'ids' in selection
        ? eb('profiles.id', 'in', selection.ids)
        : eb.and([
            eb('profiles.kind', '=', 'anonymous'),
            eb('profiles.last_active_at', '<', selection.inactiveBefore),
          ])
    const profileIds = this.#db
      .selectFrom('profiles')
      .select('profiles.id')
      .where('profiles.tenant_id', '=', tenantId)
      .where(selected)
    const count = sql<number | string>`count(*)`
    // One round trip: a scalar subquery per table.
    const row = await this.#db
      .selectNoFrom((eb) => [
        eb
          .selectFrom('profiles')
          .select(count.as('n'))
          .where('profiles.tenant_id', '=', tenantId)
          .where(selected)
          .as('profiles'),
        eb
          .selectFrom('devices')
          .select(count.as('n'))
          .where('devices.tenant_id', '=', tenantId)
          .where('devices.profile_id', 'in', profileIds)
          .as('devices'),
        eb
          .selectFrom('grants')
          .select(count.as('n'))
          .where('grants.profile_id', 'in', profileIds)
          .as('grants'),
        eb
          .selectFrom('refresh_tokens')
          .select(count.as('n'))
          .where(
            'refresh_tokens.grant_id',
            'in',
            eb.selectFrom('grants').select('grants.id').where('grants.profile_id', 'in', profileIds),
          )
          .as('refresh_tokens'),
        eb
          .selectFrom('profile_attributes')
          .select(count.as('n'))
          .where('profile_attributes.profile_id', 'in', profileIds)
          .as('attributes'),
      ])
      .executeTakeFirstOrThrow()
    return {
      profiles: Number(row.profiles),
      devices: Number(row.devices),
      grants: Number(row.grants),
      refreshTokens: Number(row.refresh_tokens),
      attributes: Number(row.attributes),
    }
  }

  async deleteMany(tenantId: string, ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0
    const result = await this.#db
      .deleteFrom('profiles')
      .where('tenant_id', '=', tenantId)
      .where('id', 'in', ids)
      .executeTakeFirst()
    return affected(result)
  }
}
