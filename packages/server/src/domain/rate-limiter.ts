import type { EphemeralStore } from '../ephemeral/ephemeral-store.ts'
import { TooManyRequests } from '../errors/oauth-error.ts'

export interface RateLimit {
  limit: number
  windowSeconds: number
}

/**
 * Authorization requests one address may start per tenant and minute, pushed (`/par`) and at
 * `/authorize` each: every one keeps an entry in the ephemeral store until it is used or expires
 * (a hosted-login interaction lives 30 minutes), so an unbounded stream would fill it. A person
 * signing in starts one or two.
 */
export const authorizationStartLimit: RateLimit = { limit: 120, windowSeconds: 60 }

/** Fixed-window counters in the ephemeral store, so every node of a cluster shares them. */
export class RateLimiter {
  readonly #store: EphemeralStore

  constructor(store: EphemeralStore) {
    this.#store = store
  }

  /** `hit`, answering an exceeded limit with `TooManyRequests` (429 with `Retry-After`). */
  async enforce(checks: { key: string; limit: RateLimit }[]): Promise<void> {
    const retryAfter = await this.hit(checks)
    if (retryAfter !== undefined) throw new TooManyRequests(retryAfter)
  }

  /** Counts a hit against every named limit; returns the seconds to wait if any is exceeded. */
  async hit(checks: { key: string; limit: RateLimit }[]): Promise<number | undefined> {
    const window = (limit: RateLimit): number => Math.floor(Date.now() / 1000 / limit.windowSeconds)
    const counts = await Promise.all(
      checks.map(({ key, limit }) =>
        this.#store.increment(`rl:${key}:${window(limit)}`, limit.windowSeconds),
      ),
    )
    const exceeded = checks.filter((check, i) => counts[i]! > check.limit.limit)
    if (exceeded.length === 0) return undefined
    return Math.max(
      ...exceeded.map(
        ({ limit }) => limit.windowSeconds - (Math.floor(Date.now() / 1000) % limit.windowSeconds),
      ),
    )
  }
}
