import type { Selectable } from 'kysely'
import type { Device, DeviceStore } from '../device-store.ts'
import type { DevicesTable } from '../tables/devices.ts'
import { affected, type Executor, insertRow, optional } from './executor.ts'

export class KyselyDeviceStore implements DeviceStore {
  readonly #db: Executor
  constructor(db: Executor) {
    this.#db = db
  }

  async get(tenantId: string, id: string): Promise<Device | undefined> {
    const row = await this.#db
      .selectFrom('devices')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst()
    return row && toDevice(row)
  }

  async list(
    tenantId: string,
    options?: { profileId?: string; limit?: number; after?: string },
  ): Promise<Device[]> {
    let query = this.#db.selectFrom('devices').selectAll().where('tenant_id', '=', tenantId)
    if (options?.profileId) query = query.where('profile_id', '=', options.profileId)
    if (options?.after) query = query.where('id', '>', options.after)
    const rows = await query
      .orderBy('id')
      .limit(options?.limit ?? 100)
      .execute()
    return rows.map(toDevice)
  }

  async findActive(tenantId: string, profileId: string, jkt: string): Promise<Device | undefined> {
    const row = await this.#db
      .selectFrom('devices')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('profile_id', '=', profileId)
      .where('jkt', '=', jkt)
      .where('revoked_at', 'is', null)
      .executeTakeFirst()
    return row && toDevice(row)
  }

  async create(device: Device): Promise<void> {
    await insertRow(this.#db, 'devices', {
      id: device.id,
      tenant_id: device.tenantId,
      profile_id: device.profileId,
      client_id: device.clientId,
      jkt: device.jkt,
      authentication_mode: device.authenticationMode,
      hardware_key: device.hardwareKey ? 1 : 0,
      created_at: device.createdAt,
      last_seen_at: device.lastSeenAt,
      revoked_at: device.revokedAt ?? null,
    })
  }

  async touch(id: string, at: number): Promise<void> {
    await this.#db.updateTable('devices').set({ last_seen_at: at }).where('id', '=', id).execute()
  }

  async revoke(tenantId: string, id: string, at: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('devices')
      .set({ revoked_at: at })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst()
    return affected(result) > 0
  }

  async assign(tenantId: string, id: string, profileId: string): Promise<boolean> {
    const result = await this.#db
      .updateTable('devices')
      .set({ profile_id: profileId })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst()
    return affected(result) > 0
  }
}

function toDevice(row: Selectable<DevicesTable>): Device {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    profileId: row.profile_id,
    clientId: row.client_id,
    jkt: row.jkt,
    authenticationMode: row.authentication_mode as Device['authenticationMode'],
    hardwareKey: row.hardware_key === 1,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    revokedAt: optional(row.revoked_at),
  }
}
