import { AppError } from '../errors/app-error.ts'
import type { ProfileFootprint } from '../store/profile-retention-store.ts'
import type { Store } from '../store/stores.ts'
import type { Tenant } from '../store/tenant-store.ts'
import type { Clock } from './clock.ts'

export interface SweepResult {
  refreshTokens: number
  authorizationCodes: number
  signingKeys: number
}

/** Rows deleted per statement, so a sweep never holds the database for long. */
const batchSize = 1000

/**
 * Deletes what can no longer be used: refresh tokens past their expiry (used ones included:
 * presenting them again can no longer be told apart from an unknown token), authorization codes
 * past their expiry (likewise: a code's reuse is caught only while it lives) and retired signing
 * keys whose tokens have all expired.
 */
export async function sweepExpired(store: Store, clock: Clock): Promise<SweepResult> {
  const now = clock.now()
  return {
    refreshTokens: await deleteUntilShort((limit) => store.refreshTokens.deleteExpired(now, limit)),
    authorizationCodes: await deleteUntilShort((limit) => store.authorizationCodes.deleteExpired(now, limit)),
    signingKeys: await store.signingKeys.deleteUnpublished(now),
  }
}

/** Runs `deleteBatch` until a batch comes back short; the total deleted. */
async function deleteUntilShort(deleteBatch: (limit: number) => Promise<number>): Promise<number> {
  let total = 0
  for (let deleted = batchSize; deleted === batchSize; total += deleted)
    deleted = await deleteBatch(batchSize)
  return total
}

/** Profiles deleted per transaction by default. */
export const profileBatchSize = { default: 500, max: 5000 } as const

export interface ProfileSweepOptions {
  /** Only this tenant; by default every tenant, each with its own inactivity limit. */
  tenantId?: string
  /** Count what would be deleted, and delete nothing. */
  dryRun?: boolean
  /** Profiles per transaction (default 500). */
  batchSize?: number
  /** After each batch (and once before the first): profiles deleted so far out of the tenant's total. */
  onProgress?: (progress: { tenantId: string; done: number; total: number }) => void
  /** Stops the sweep between batches (what was deleted stays deleted). */
  signal?: AbortSignal
}

export interface TenantProfileSweep {
  tenantId: string
  /** Anonymous profiles last active before this (epoch seconds) were deleted, or would be. */
  inactiveBefore: number
  deleted: ProfileFootprint
}

export const noFootprint: ProfileFootprint = {
  profiles: 0,
  devices: 0,
  grants: 0,
  refreshTokens: 0,
  attributes: 0,
}

/**
 * Deletes anonymous profiles that were not active for their tenant's `anonymousInactivityDays`,
 * with their devices, grants, refresh tokens and attributes. Activity is enrollment, a refresh
 * and an attribute write; identified profiles are never swept. Works in batches, one
 * transaction each, so other requests get the database in between.
 */
export async function sweepInactiveProfiles(
  store: Store,
  clock: Clock,
  options: ProfileSweepOptions = {},
): Promise<TenantProfileSweep[]> {
  const size = options.batchSize ?? profileBatchSize.default
  if (!Number.isInteger(size) || size < 1 || size > profileBatchSize.max)
    throw new AppError('invalid_input', `the batch size must be 1–${profileBatchSize.max}`)
  const now = clock.now()
  const results: TenantProfileSweep[] = []
  for (const tenant of await tenantsToSweep(store, options.tenantId)) {
    const inactiveBefore = now - tenant.settings.anonymousInactivityDays * 24 * 3600
    const deleted = options.dryRun
      ? await store.profileRetention.footprint(tenant.id, { inactiveBefore })
      : await deleteInBatches(store, tenant.id, inactiveBefore, size, options)
    results.push({ tenantId: tenant.id, inactiveBefore, deleted })
    if (options.signal?.aborted) break
  }
  return results
}

export function addFootprints(a: ProfileFootprint, b: ProfileFootprint): ProfileFootprint {
  return {
    profiles: a.profiles + b.profiles,
    devices: a.devices + b.devices,
    grants: a.grants + b.grants,
    refreshTokens: a.refreshTokens + b.refreshTokens,
    attributes: a.attributes + b.attributes,
  }
}

async function tenantsToSweep(store: Store, tenantId: string | undefined): Promise<Tenant[]> {
  if (tenantId === undefined) return store.tenants.list()
  const tenant = await store.tenants.get(tenantId)
  if (!tenant) throw new AppError('not_found', `tenant "${tenantId}" does not exist`)
  return [tenant]
}

async function deleteInBatches(
  store: Store,
  tenantId: string,
  inactiveBefore: number,
  size: number,
  { onProgress, signal }: ProfileSweepOptions,
): Promise<ProfileFootprint> {
  const total = await store.profileRetention.countInactive(tenantId, inactiveBefore)
  onProgress?.({ tenantId, done: 0, total })
  let deleted = noFootprint
  for (;;) {
    const batch = await store.transaction(async (stores) => {
      const ids = await stores.profileRetention.claimInactive(tenantId, inactiveBefore, size)
      // Counted before deleting: the cascades do not say what they removed.
      const footprint = await stores.profileRetention.footprint(tenantId, { ids })
      await stores.profileRetention.deleteMany(tenantId, ids)
      return footprint
    })
    deleted = addFootprints(deleted, batch)
    // Profiles that went inactive since the count make the total grow.
    onProgress?.({ tenantId, done: deleted.profiles, total: Math.max(total, deleted.profiles) })
    if (batch.profiles < size || signal?.aborted) return deleted
  }
}
