/**
 * A small read-through cache for configuration read on every request (tenants, clients,
 * resources). Entries live a few seconds, so admin changes reach every node of a cluster soon
 * without any messaging; the node that made a change drops its entry at once.
 */
export class TTLCache<V> {
  readonly #entries = new Map<string, { value: V; at: number }>()
  readonly #ttlMilliseconds: number
  readonly #maxEntries: number

  constructor(options: { ttlMilliseconds: number; maxEntries?: number }) {
    this.#ttlMilliseconds = options.ttlMilliseconds
    this.#maxEntries = options.maxEntries ?? 10_000
  }

  async get(key: string, load: () => Promise<V>): Promise<V> {
    const entry = this.#entries.get(key)
    const now = Date.now()
    if (entry && now - entry.at < this.#ttlMilliseconds) return entry.value
    const value = await load()
    if (this.#entries.size >= this.#maxEntries) this.#entries.clear()
    this.#entries.set(key, { value, at: now })
    return value
  }

  delete(key: string): void {
    this.#entries.delete(key)
  }
}
