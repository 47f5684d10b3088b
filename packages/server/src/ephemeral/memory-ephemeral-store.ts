import type { EphemeralStore } from './ephemeral-store.ts'

export class MemoryEphemeralStore implements EphemeralStore {
  readonly #expiries = new Map<string, number>()
  readonly #counters = new Map<string, { count: number; expiresAt: number }>()
  readonly #sweeper: NodeJS.Timeout

  constructor() {
    this.#sweeper = setInterval(() => this.#sweep(), 10_000)
    this.#sweeper.unref()
  }

  async addIfAbsent(key: string, ttlSeconds: number): Promise<boolean> {
    const now = Date.now()
    const expiresAt = this.#expiries.get(key)
    if (expiresAt !== undefined && expiresAt > now) return false
    this.#expiries.set(key, now + ttlSeconds * 1000)
    return true
  }

  async increment(key: string, windowSeconds: number): Promise<number> {
    const now = Date.now()
    const counter = this.#counters.get(key)
    if (!counter || counter.expiresAt <= now) {
      this.#counters.set(key, { count: 1, expiresAt: now + windowSeconds * 1000 })
      return 1
    }
    counter.count++
    return counter.count
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.#sweeper)
  }

  #sweep(): void {
    const now = Date.now()
    for (const [key, expiresAt] of this.#expiries) if (expiresAt <= now) this.#expiries.delete(key)
    for (const [key, counter] of this.#counters) if (counter.expiresAt <= now) this.#counters.delete(key)
  }
}
