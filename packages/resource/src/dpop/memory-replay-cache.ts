import type { ReplayCache } from './replay-cache.ts'

/**
 * The replay cache of a single process. Entries leave in insertion order once expired: with one
 * TTL for all keys that is expiry order, so sweeping costs O(1) per insert on average.
 */
export class MemoryReplayCache implements ReplayCache {
  readonly #expiries = new Map<string, number>()

  async addIfAbsent(key: string, ttlSeconds: number): Promise<boolean> {
    const now = Date.now()
    this.#sweep(now)
    const expiresAt = this.#expiries.get(key)
    if (expiresAt !== undefined) {
      if (expiresAt > now) return false
      this.#expiries.delete(key)
    }
    this.#expiries.set(key, now + ttlSeconds * 1000)
    return true
  }

  /** How many keys are remembered (tests, metrics). */
  get size(): number {
    return this.#expiries.size
  }

  #sweep(now: number): void {
    for (const [key, expiresAt] of this.#expiries) {
      if (expiresAt > now) return
      this.#expiries.delete(key)
    }
  }
}
