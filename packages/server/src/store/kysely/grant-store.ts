import type { Selectable } from 'kysely'
import type { Grant, GrantRevocationReason, GrantStatus, GrantStore } from '../grant-store.ts'
import type { GrantsTable } from '../tables/grants.ts'
import { affected, type Executor, insertRow, optional, runCompiled } from './executor.ts'

export class KyselyGrantStore implements GrantStore {
  readonly #db: Executor
  constructor(db: Executor) {
    this.#db = db
  }

  async get(tenantId: string, id: string): Promise<Grant | undefined> {
    const [row] = await runCompiled(
      this.#db,
      'grant by id',
      () => this.#db.selectFrom('grants').selectAll().where('id', '=', '').where('tenant_id', '=', ''),
      [id, tenantId],
    )
    return row && toGrant(row)
  }

  async status(tenantId: string, id: string): Promise<GrantStatus | undefined> {
    const [row] = await runCompiled(
      this.#db,
      'grant status by id',
      () =>
        this.#db
          .selectFrom('grants')
          .select(['profile_id', 'expires_at', 'revoked_at'])
          .where('id', '=', '')
          .where('tenant_id', '=', ''),
      [id, tenantId],
    )
    return (
      row && { profileId: row.profile_id, expiresAt: row.expires_at, revokedAt: optional(row.revoked_at) }
    )
  }

  async create(grant: Grant): Promise<void> {
    await insertRow(this.#db, 'grants', {
      id: grant.id,
      tenant_id: grant.tenantId,
      profile_id: grant.profileId,
      client_id: grant.clientId,
      device_id: grant.deviceId ?? null,
      jkt: grant.jkt ?? null,
      scope: grant.scope,
      acr: grant.acr,
      amr: JSON.stringify(grant.amr),
      created_at: grant.createdAt,
      expires_at: grant.expiresAt,
      revoked_at: grant.revokedAt ?? null,
      revoked_reason: grant.revokedReason ?? null,
    })
  }

  async revoke(tenantId: string, id: string, reason: GrantRevocationReason, at: number): Promise<boolean> {
    return (await this.#revokeWhere(tenantId, 'id', id, reason, at)) > 0
  }

  revokeForDevice(
    tenantId: string,
    deviceId: string,
    reason: GrantRevocationReason,
    at: number,
  ): Promise<number> {
    return this.#revokeWhere(tenantId, 'device_id', deviceId, reason, at)
  }

  revokeForProfile(
    tenantId: string,
    profileId: string,
    reason: GrantRevocationReason,
    at: number,
  ): Promise<number> {
    return this.#revokeWhere(tenantId, 'profile_id', profileId, reason, at)
  }

  /** Revokes the tenant's still-active grants whose `column` is `value`; returns how many. */
  async #revokeWhere(
    tenantId: string,
    column: 'id' | 'device_id' | 'profile_id',
    value: string,
    reason: GrantRevocationReason,
    at: number,
  ): Promise<number> {
    const result = await this.#db
      .updateTable('grants')
      .set({ revoked_at: at, revoked_reason: reason })
      .where(column, '=', value)
      .where('tenant_id', '=', tenantId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst()
    return affected(result)
  }
}

function toGrant(row: Selectable<GrantsTable>): Grant {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    profileId: row.profile_id,
    clientId: row.client_id,
    deviceId: optional(row.device_id),
    jkt: optional(row.jkt),
    scope: row.scope,
    acr: row.acr,
    amr: JSON.parse(row.amr),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: optional(row.revoked_at),
    revokedReason: optional(row.revoked_reason),
  }
}
