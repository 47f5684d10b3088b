import { AppError } from '../errors/app-error.ts'
import type { Store, Stores } from '../store/stores.ts'
import type { Clock } from './clock.ts'
import type { AttributeLimits } from './profile-manager.ts'

/** Which value wins when both profiles have an attribute of the same name. */
export type MergePreference = 'prefer-existing' | 'prefer-anonymous'

export interface MergeResult {
  /** Attributes copied into the identified profile (new, or replacing its value). */
  merged: string[]
  /** Attributes left out because the identified profile would exceed its limits. */
  skipped: string[]
}

/**
 * Copies an anonymous profile's attributes into an identified profile, in the caller's
 * transaction. The anonymous profile is left as it was. Attributes that would take the
 * identified profile past its count or size limits are skipped (in name order) rather than
 * failing a sign-in.
 */
export async function mergeProfileAttributes(
  stores: Stores,
  input: {
    tenantId: string
    from: string
    into: string
    prefer: MergePreference
    limits: AttributeLimits
    now: number
  },
): Promise<MergeResult> {
  const { tenantId, from, into, limits, now } = input
  // Touch first: on PostgreSQL that locks the profile's row, as attribute writes do, so quotas hold.
  await stores.profiles.touch(into, now)
  const source = await stores.profileAttributes.list(tenantId, from)
  const target = new Map((await stores.profileAttributes.list(tenantId, into)).map((a) => [a.name, a]))
  let count = target.size
  let bytes = [...target.values()].reduce((sum, a) => sum + Buffer.byteLength(a.value, 'utf8'), 0)
  const result: MergeResult = { merged: [], skipped: [] }
  for (const attribute of source) {
    const current = target.get(attribute.name)
    if (current && (input.prefer === 'prefer-existing' || current.value === attribute.value)) continue
    const added =
      Buffer.byteLength(attribute.value, 'utf8') - (current ? Buffer.byteLength(current.value, 'utf8') : 0)
    if ((!current && count >= limits.maxCount) || bytes + added > limits.maxTotalBytes) {
      result.skipped.push(attribute.name)
      continue
    }
    await stores.profileAttributes.put(tenantId, into, {
      name: attribute.name,
      value: attribute.value,
      updatedAt: now,
    })
    if (!current) count++
    bytes += added
    result.merged.push(attribute.name)
  }
  return result
}

/** `POST /profile/merge`: a person who holds both tokens folds an anonymous profile's attributes into their own. */
export class ProfileMerger {
  readonly #store: Store
  readonly #clock: Clock
  readonly #limitsOf: (tenantId: string) => Promise<AttributeLimits>

  constructor(options: {
    store: Store
    clock: Clock
    limitsOf: (tenantId: string) => Promise<AttributeLimits>
  }) {
    this.#store = options.store
    this.#clock = options.clock
    this.#limitsOf = options.limitsOf
  }

  async merge(
    tenantId: string,
    input: { anonymousProfileId: string; identifiedProfileId: string; prefer: MergePreference },
  ): Promise<MergeResult> {
    const now = this.#clock.now()
    const limits = await this.#limitsOf(tenantId)
    return this.#store.transaction(async (stores) => {
      const anonymous = await stores.profiles.get(tenantId, input.anonymousProfileId)
      const identified = await stores.profiles.get(tenantId, input.identifiedProfileId)
      if (anonymous?.kind !== 'anonymous')
        throw new AppError('conflict', 'the anonymous token’s profile is no longer anonymous')
      if (identified?.kind !== 'identified')
        throw new AppError('forbidden', 'the access token must be of a signed-in person')
      return mergeProfileAttributes(stores, {
        tenantId,
        from: anonymous.id,
        into: identified.id,
        prefer: input.prefer,
        limits,
        now,
      })
    })
  }
}
