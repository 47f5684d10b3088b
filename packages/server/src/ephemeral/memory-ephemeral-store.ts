import type { EphemeralStore } from './ephemeral-store.ts'

interface Entry {
  value: string
  expiresAt: number
}

export class MemoryEphemeralStore implements EphemeralStore {
  readonly #entries = new Map<string, Entry>()
  readonly #sweeper: NodeJS.Timeout

  constructor() {
    this.#sweeper = setInterval(() => this.#sweep(), 10_000)
    this.#sweeper.unref()
  }

  async addIfAbsent(key: string, ttlSeconds: number): Promise<boolean> {
    if (this.#live(key)) return false
    this.#entries.set(key, { value: '1', expiresAt: Date.now() + ttlSeconds * 1000 })
    return true
  }

  async increment(key: string, windowSeconds: number): Promise<number> {
    const entry = this.#live(key)
    if (!entry) {
      this.#entries.set(key, { value: '1', expiresAt: Date.now() + windowSeconds * 1000 })
      return 1
    }
    entry.value = String(Number(entry.value) + 1)
    return Number(entry.value)
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    this.#entries.set(key, { value, expiresAt: Date.now() + ttlSeconds * 1000 })
  }

  async get(key: string): Promise<string | undefined> {
    return this.#live(key)?.value
  }

  async take(key: string): Promise<string | undefined> {
    const entry = this.#live(key)
    this.#entries.delete(key)
    return entry?.value
  }

  async delete(key: string): Promise<void> {
    this.#entries.delete(key)
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.#sweeper)
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key)
    return entry && entry.expiresAt > Date.now() ? entry : undefined
  }

  #sweep(): void {
    const now = Date.now()
    for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(key)
  }
}
