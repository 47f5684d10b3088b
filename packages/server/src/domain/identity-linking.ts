import { timeOrderedId } from '../crypto/secrets.ts'
import type { Grant } from '../store/grant-store.ts'
import type { Stores } from '../store/stores.ts'
import type { MergePolicy } from '../store/tenant-store.ts'
import type { AttributeLimits } from './profile-manager.ts'
import { mergeProfileAttributes } from './profile-merge.ts'

/**
 * How a sign-in found its profile (DESIGN §6, the rules of IBM App ID):
 * - `attached`: the identity was new and the sign-in came from an anonymous profile, which now
 *   belongs to the identity (same id, attributes kept) and whose anonymous tokens stop working;
 * - `existing`: the identity already belonged to a profile, whose tokens these are; the
 *   anonymous profile the sign-in came from keeps its attributes and tokens, and its device
 *   becomes the person's;
 * - `created`: the identity was new and there was no anonymous profile to attach: a new one.
 */
export type LinkOutcome = 'attached' | 'existing' | 'created'

export interface LinkRequest {
  tenantId: string
  provider: string
  subject: string
  /** The anonymous profile and token family the sign-in came from. */
  anonymous: { profileId: string; grantId: string } | undefined
  /** What becomes of the anonymous profile's attributes when the identity has a profile already. */
  mergePolicy: MergePolicy
  attributeLimits: AttributeLimits
  now: number
}

export interface LinkedProfile {
  profileId: string
  outcome: LinkOutcome
  /** The device the sign-in came from (with `attached` and `existing`), which now belongs to the person. */
  deviceId: string | undefined
}

/**
 * Another transaction linked the same identity first. The caller retries in a new transaction,
 * where the identity is found and the sign-in gets the `existing` outcome.
 */
export class IdentityTaken extends Error {
  constructor() {
    super('the identity was linked to another profile concurrently')
    this.name = 'IdentityTaken'
  }
}

/**
 * Finds or creates the profile of an identity that just signed in, in the caller's transaction.
 * The unique (tenant, provider, subject) constraint decides races: of two transactions linking
 * the same new identity, one inserts it, the other throws `IdentityTaken` and rolls back.
 */
export async function linkIdentity(stores: Stores, request: LinkRequest): Promise<LinkedProfile> {
  const { tenantId, provider, subject, now } = request
  const existing = await stores.identities.find(tenantId, provider, subject)
  const anonymous =
    request.anonymous && (await activeAnonymousGrant(stores, tenantId, request.anonymous, now))
  if (existing) {
    if (anonymous && request.mergePolicy !== 'none') {
      await mergeProfileAttributes(stores, {
        tenantId,
        from: anonymous.profileId,
        into: existing.profileId,
        prefer: request.mergePolicy,
        limits: request.attributeLimits,
        now,
      })
    } else {
      await stores.profiles.touch(existing.profileId, now)
    }
    // The person signed in on the anonymous profile's device: it is theirs now, so that revoking
    // it ends their tokens too and a sweep of the anonymous profile leaves it alone.
    const deviceId = anonymous?.deviceId
    if (deviceId) await stores.devices.assign(tenantId, deviceId, existing.profileId)
    return { profileId: existing.profileId, outcome: 'existing', deviceId }
  }

  const identity = { id: timeOrderedId(), tenantId, provider, subject, createdAt: now }
  // Conditional on the profile still being anonymous: of two identities attaching it at once, one wins.
  if (anonymous && (await stores.profiles.attach(tenantId, anonymous.profileId, now))) {
    if (!(await stores.identities.createIfAbsent({ ...identity, profileId: anonymous.profileId })))
      throw new IdentityTaken()
    await stores.grants.revokeForProfile(tenantId, anonymous.profileId, 'profile_attached', now)
    return { profileId: anonymous.profileId, outcome: 'attached', deviceId: anonymous.deviceId }
  }

  const profileId = timeOrderedId()
  await stores.profiles.create({
    id: profileId,
    tenantId,
    kind: 'identified',
    createdAt: now,
    lastActiveAt: now,
    attachedAt: undefined,
  })
  if (!(await stores.identities.createIfAbsent({ ...identity, profileId }))) throw new IdentityTaken()
  return { profileId, outcome: 'created', deviceId: undefined }
}

/**
 * The anonymous grant the sign-in came from, if it still stands: not revoked, not expired, of an
 * anonymous profile. One that ended meanwhile (the profile was attached by another sign-in,
 * the device revoked) is as if the sign-in had carried no anonymous token.
 */
async function activeAnonymousGrant(
  stores: Stores,
  tenantId: string,
  anonymous: { profileId: string; grantId: string },
  now: number,
): Promise<Grant | undefined> {
  const grant = await stores.grants.get(tenantId, anonymous.grantId)
  if (!grant || grant.profileId !== anonymous.profileId) return undefined
  if (grant.revokedAt !== undefined || grant.expiresAt <= now) return undefined
  const profile = await stores.profiles.get(tenantId, grant.profileId)
  return profile?.kind === 'anonymous' ? grant : undefined
}
