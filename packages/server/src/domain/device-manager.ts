import type { AuthenticationMode } from '@onramp/protocol'
import { timeOrderedId } from '../crypto/secrets.ts'
import { AppError } from '../errors/app-error.ts'
import type { Device } from '../store/device-store.ts'
import type { Grant } from '../store/grant-store.ts'
import type { Store } from '../store/stores.ts'
import type { Tenant } from '../store/tenant-store.ts'
import type { Clock } from './clock.ts'
import type { RefreshTokenManager } from './refresh-token-manager.ts'

export interface AnonymousEnrollment {
  clientId: string
  jkt: string
  authenticationMode: AuthenticationMode
  hardwareKey: boolean
  scope: string
  amr: string[]
}

export interface EnrolledDevice {
  device: Device
  grant: Grant
  refreshToken: string
}

/** How many devices one page lists. */
export const devicePageSize = { default: 100, max: 1000 } as const

/** Devices: anonymous enrollment creates one, with its profile and its first grant. */
export class DeviceManager {
  readonly #store: Store
  readonly #clock: Clock
  readonly #refreshTokens: RefreshTokenManager

  constructor(options: { store: Store; clock: Clock; refreshTokens: RefreshTokenManager }) {
    this.#store = options.store
    this.#clock = options.clock
    this.#refreshTokens = options.refreshTokens
  }

  /** Creates an anonymous profile, its device bound to the proof key, a grant and a refresh token, atomically. */
  enrollAnonymous(tenant: Tenant, enrollment: AnonymousEnrollment): Promise<EnrolledDevice> {
    const now = this.#clock.now()
    const profileId = timeOrderedId()
    const device: Device = {
      id: timeOrderedId(),
      tenantId: tenant.id,
      profileId,
      clientId: enrollment.clientId,
      jkt: enrollment.jkt,
      authenticationMode: enrollment.authenticationMode,
      hardwareKey: enrollment.hardwareKey,
      createdAt: now,
      lastSeenAt: now,
      revokedAt: undefined,
    }
    const grant: Grant = {
      id: timeOrderedId(),
      tenantId: tenant.id,
      profileId,
      clientId: enrollment.clientId,
      deviceId: device.id,
      jkt: enrollment.jkt,
      scope: enrollment.scope,
      acr: '0',
      amr: enrollment.amr,
      createdAt: now,
      expiresAt: now + tenant.settings.refreshTokenAbsoluteTtl,
      revokedAt: undefined,
      revokedReason: undefined,
    }
    return this.#store.transaction(async (stores) => {
      await stores.profiles.create({
        id: profileId,
        tenantId: tenant.id,
        kind: 'anonymous',
        createdAt: now,
        lastActiveAt: now,
        attachedAt: undefined,
      })
      await stores.devices.create(device)
      await stores.grants.create(grant)
      const refreshToken = await this.#refreshTokens.issue(stores, tenant, grant)
      return { device, grant, refreshToken }
    })
  }

  list(
    tenantId: string,
    options?: { profileId?: string; limit?: number; after?: string },
  ): Promise<Device[]> {
    return this.#store.devices.list(tenantId, options)
  }

  /** One page of the tenant's devices in id order; `next` is the `after` of the following page. */
  async page(
    tenantId: string,
    options?: { profileId?: string; limit?: number; after?: string },
  ): Promise<{ devices: Device[]; next: string | undefined }> {
    const limit = options?.limit ?? devicePageSize.default
    if (!Number.isInteger(limit) || limit < 1 || limit > devicePageSize.max)
      throw new AppError('invalid_input', `limit must be 1–${devicePageSize.max}`)
    const devices = await this.#store.devices.list(tenantId, { ...options, limit: limit + 1 })
    if (devices.length <= limit) return { devices, next: undefined }
    devices.length = limit
    return { devices, next: devices.at(-1)!.id }
  }

  async get(tenantId: string, deviceId: string): Promise<Device> {
    const device = await this.#store.devices.get(tenantId, deviceId)
    if (!device) throw new AppError('not_found', `device "${deviceId}" does not exist`)
    return device
  }

  /** Revokes the device and every grant (and so every token) issued to it. */
  async revoke(tenantId: string, deviceId: string): Promise<{ grantsRevoked: number }> {
    const now = this.#clock.now()
    return this.#store.transaction(async (stores) => {
      if (!(await stores.devices.get(tenantId, deviceId)))
        throw new AppError('not_found', `device "${deviceId}" does not exist`)
      await stores.devices.revoke(tenantId, deviceId, now)
      return { grantsRevoked: await stores.grants.revokeForDevice(tenantId, deviceId, 'device_revoked', now) }
    })
  }
}
