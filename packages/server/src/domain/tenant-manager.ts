import type { SecretBox } from '../crypto/secret-box.ts'
import { AppError } from '../errors/app-error.ts'
import { prepareUpstreamProviders, type UpstreamProviderInput } from '../login/upstream-providers.ts'
import type { Resource } from '../store/resource-store.ts'
import type { Store, Stores } from '../store/stores.ts'
import {
  type AttributeQuota,
  attributeQuotaMaxima,
  type LoginLockout,
  loginLockoutMaxima,
  MergePolicies,
  SigningAlgorithms,
  signingAlgorithmOf,
  type Tenant,
  type TenantSettings,
} from '../store/tenant-store.ts'
import type { Clock } from './clock.ts'
import type { KeyManager } from './key-manager.ts'
import { TTLCache } from './ttl-cache.ts'

export const defaultTenantSettings: TenantSettings = {
  accessTokenTtl: 300,
  refreshTokenIdleTtl: 30 * 24 * 3600,
  refreshTokenAbsoluteTtl: 365 * 24 * 3600,
  dpopNonce: false,
  anonymousInactivityDays: 30,
  mergePolicy: 'none',
}

/** Settings as an administrator gives them: upstream providers with their secrets in the clear. */
export type TenantSettingsInput = Omit<TenantSettings, 'upstreamProviders'> & {
  upstreamProviders?: UpstreamProviderInput[]
}

const tenantIdPattern = /^[a-z0-9][a-z0-9-]{0,62}$/

export class TenantManager {
  readonly #store: Store
  readonly #keys: KeyManager
  readonly #clock: Clock
  readonly #upstreamSecrets: SecretBox
  readonly #cache = new TTLCache<Tenant | undefined>({ ttlMilliseconds: 5000 })

  constructor(options: { store: Store; keys: KeyManager; clock: Clock; upstreamSecrets: SecretBox }) {
    this.#store = options.store
    this.#keys = options.keys
    this.#clock = options.clock
    this.#upstreamSecrets = options.upstreamSecrets
  }

  /** The tenant for a request, from a short-lived cache. */
  async find(id: string): Promise<Tenant | undefined> {
    if (!tenantIdPattern.test(id)) return undefined
    return this.#cache.get(id, () => this.#store.tenants.get(id))
  }

  async get(id: string): Promise<Tenant> {
    const tenant = await this.#store.tenants.get(id)
    if (!tenant) throw new AppError('not_found', `tenant "${id}" does not exist`)
    return tenant
  }

  list(): Promise<Tenant[]> {
    return this.#store.tenants.list()
  }

  /** Creates the tenant with its first signing key, atomically. */
  async create(input: {
    id: string
    name?: string
    settings?: Partial<TenantSettingsInput>
  }): Promise<Tenant> {
    if (!tenantIdPattern.test(input.id)) {
      throw new AppError(
        'invalid_input',
        'tenant id must be 1–63 lower-case letters, digits or dashes, starting with a letter or digit',
      )
    }
    const tenant: Tenant = {
      id: input.id,
      name: input.name ?? input.id,
      settings: this.#settings(input.id, defaultTenantSettings, input.settings),
      createdAt: this.#clock.now(),
    }
    await this.#store.transaction(async (stores) => {
      if (await stores.tenants.get(tenant.id))
        throw new AppError('conflict', `tenant "${tenant.id}" already exists`)
      await stores.tenants.create(tenant)
      await this.#keys.createKey(tenant.id, stores, signingAlgorithmOf(tenant.settings))
    })
    this.#cache.delete(tenant.id)
    return tenant
  }

  async update(
    id: string,
    patch: { name?: string; settings?: Partial<TenantSettingsInput> },
  ): Promise<Tenant> {
    const tenant = await this.get(id)
    const settings = this.#settings(id, tenant.settings, patch.settings)
    const updated = { ...tenant, name: patch.name ?? tenant.name, settings }
    // A new algorithm takes effect at once: a key for it replaces the active one, which stays
    // published until the tokens it signed have expired.
    const newAlgorithm = signingAlgorithmOf(settings) !== signingAlgorithmOf(tenant.settings)
    await this.#store.transaction(async (stores) => {
      await stores.tenants.update(id, { name: updated.name, settings })
      if (newAlgorithm) await this.#rotate(stores, updated)
    })
    this.#cache.delete(id)
    if (newAlgorithm) this.#keys.forget(id)
    return updated
  }

  /** The previous settings with the patch applied, checked, upstream client secrets sealed. */
  #settings(
    tenantId: string,
    previous: TenantSettings,
    patch: Partial<TenantSettingsInput> | undefined,
  ): TenantSettings {
    const { upstreamProviders, ...rest } = patch ?? {}
    const settings = validateSettings({ ...previous, ...rest })
    const providers =
      upstreamProviders === undefined
        ? (previous.upstreamProviders ?? [])
        : prepareUpstreamProviders(tenantId, upstreamProviders, {
            previous: previous.upstreamProviders ?? [],
            secretBox: this.#upstreamSecrets,
          })
    return providers.length > 0 ? { ...settings, upstreamProviders: providers } : settings
  }

  async delete(id: string): Promise<void> {
    if (!(await this.#store.tenants.delete(id)))
      throw new AppError('not_found', `tenant "${id}" does not exist`)
    this.#cache.delete(id)
    this.#keys.forget(id)
  }

  /**
   * Retires the tenant's active signing key and creates a new one, in one transaction. The
   * retired key stays published for the longest access-token lifetime of the tenant, so every
   * token it signed still verifies until it expires. Returns the new key's `kid`.
   */
  async rotateSigningKey(id: string): Promise<string> {
    const kid = await this.#store.transaction(async (stores) => {
      const tenant = await stores.tenants.get(id)
      if (!tenant) throw new AppError('not_found', `tenant "${id}" does not exist`)
      return this.#rotate(stores, tenant)
    })
    // Again after commit: a load between the rotation and the commit could have cached the old key.
    this.#keys.forget(id)
    return kid
  }

  async #rotate(stores: Stores, tenant: Tenant): Promise<string> {
    const resources = await stores.resources.list(tenant.id)
    return this.#keys.rotate(
      tenant.id,
      stores,
      longestAccessTokenTtl(tenant, resources),
      signingAlgorithmOf(tenant.settings),
    )
  }
}

/** Seconds: the longest an access token of the tenant lives, whatever its audience. */
export function longestAccessTokenTtl(tenant: Tenant, resources: readonly Resource[]): number {
  return Math.max(tenant.settings.accessTokenTtl, ...resources.map((r) => r.accessTokenTtl ?? 0))
}

function validateSettings(settings: TenantSettings): TenantSettings {
  const positive = [
    'accessTokenTtl',
    'refreshTokenIdleTtl',
    'refreshTokenAbsoluteTtl',
    'anonymousInactivityDays',
  ] as const
  for (const key of positive) {
    const value = settings[key]
    if (!Number.isInteger(value) || value <= 0)
      throw new AppError('invalid_input', `settings.${key} must be a positive whole number`)
  }
  if (settings.accessTokenTtl > 86400)
    throw new AppError('invalid_input', 'settings.accessTokenTtl must be at most 86400 seconds')
  if (settings.refreshTokenIdleTtl > settings.refreshTokenAbsoluteTtl) {
    throw new AppError(
      'invalid_input',
      'settings.refreshTokenIdleTtl must not exceed settings.refreshTokenAbsoluteTtl',
    )
  }
  if (typeof settings.dpopNonce !== 'boolean')
    throw new AppError('invalid_input', 'settings.dpopNonce must be a boolean')
  if (settings.offerPasskeys !== undefined && typeof settings.offerPasskeys !== 'boolean')
    throw new AppError('invalid_input', 'settings.offerPasskeys must be a boolean')
  if (!MergePolicies.includes(settings.mergePolicy))
    throw new AppError('invalid_input', `settings.mergePolicy must be one of ${MergePolicies.join(', ')}`)
  if (settings.signingAlg !== undefined && !SigningAlgorithms.includes(settings.signingAlg)) {
    throw new AppError('invalid_input', `settings.signingAlg must be one of ${SigningAlgorithms.join(', ')}`)
  }
  if (settings.loginLockout !== undefined) validateLoginLockout(settings.loginLockout)
  if (settings.attributeQuota !== undefined) validateAttributeQuota(settings.attributeQuota)
  return {
    accessTokenTtl: settings.accessTokenTtl,
    refreshTokenIdleTtl: settings.refreshTokenIdleTtl,
    refreshTokenAbsoluteTtl: settings.refreshTokenAbsoluteTtl,
    dpopNonce: settings.dpopNonce,
    anonymousInactivityDays: settings.anonymousInactivityDays,
    mergePolicy: settings.mergePolicy,
    ...(settings.signingAlg !== undefined && { signingAlg: settings.signingAlg }),
    ...(settings.offerPasskeys !== undefined && { offerPasskeys: settings.offerPasskeys }),
    ...(settings.attributeQuota !== undefined && {
      attributeQuota: {
        maxValueBytes: settings.attributeQuota.maxValueBytes,
        maxCount: settings.attributeQuota.maxCount,
        maxTotalBytes: settings.attributeQuota.maxTotalBytes,
      },
    }),
    ...(settings.loginLockout !== undefined && {
      loginLockout: {
        failures: settings.loginLockout.failures,
        windowSeconds: settings.loginLockout.windowSeconds,
        lockSeconds: settings.loginLockout.lockSeconds,
      },
    }),
  }
}

/** Each field from 1 to its maximum; a value must also fit in the total. */
function validateLoginLockout(lockout: LoginLockout): void {
  checkBounds('loginLockout', lockout, loginLockoutMaxima)
}

function validateAttributeQuota(quota: AttributeQuota): void {
  checkBounds('attributeQuota', quota, attributeQuotaMaxima)
  if (quota.maxValueBytes > quota.maxTotalBytes)
    throw new AppError('invalid_input', 'settings.attributeQuota.maxValueBytes must not exceed maxTotalBytes')
}

function checkBounds<T extends object>(name: string, value: T, max: Record<keyof T, number>): void {
  for (const [key, bound] of Object.entries(max) as [keyof T & string, number][]) {
    const given = (value as Record<string, unknown> | undefined)?.[key]
    if (typeof given !== 'number' || !Number.isInteger(given) || given < 1 || given > bound)
      throw new AppError('invalid_input', `settings.${name}.${key} must be a whole number from 1 to ${bound}`)
  }
}
