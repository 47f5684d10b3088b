import type { Clock } from '../adapters/clock.ts'
import type { ExchangedToken } from '../events.ts'
import { renewalTime } from './freshness.ts'

export interface ExchangeCacheOptions {
  clock: Clock
  /** Milliseconds before expiry at which a cached token is exchanged again. */
  expirySkew: number
  exchange: (audience: string) => Promise<ExchangedToken>
}

/**
 * Exchanged tokens by audience, kept until shortly before they expire. Concurrent requests for
 * one audience share one exchange; a cache cleared while an exchange is under way does not take
 * its token.
 */
export class ExchangeCache {
  readonly #options: ExchangeCacheOptions
  readonly #tokens = new Map<string, { token: ExchangedToken; renewAt: number }>()
  readonly #pending = new Map<string, Promise<ExchangedToken>>()
  #generation = 0

  constructor(options: ExchangeCacheOptions) {
    this.#options = options
  }

  /** The audience's token: the cached one while fresh (unless `forceUpdate`), else a new exchange. */
  get(audience: string, options?: { forceUpdate?: boolean }): Promise<ExchangedToken> {
    const cached = this.#tokens.get(audience)
    if (cached && !options?.forceUpdate && this.#options.clock.now() < cached.renewAt)
      return Promise.resolve(cached.token)
    let pending = this.#pending.get(audience)
    if (!pending) {
      pending = this.#exchange(audience)
      this.#pending.set(audience, pending)
    }
    return pending
  }

  clear(): void {
    this.#generation++
    this.#tokens.clear()
    this.#pending.clear()
  }

  async #exchange(audience: string): Promise<ExchangedToken> {
    const generation = this.#generation
    try {
      const token = await this.#options.exchange(audience)
      if (generation === this.#generation) {
        const renewAt = renewalTime(this.#options.clock.now(), token.expiresAt, this.#options.expirySkew)
        this.#tokens.set(audience, { token, renewAt })
      }
      return token
    } finally {
      if (generation === this.#generation) this.#pending.delete(audience)
    }
  }
}
