import type { EphemeralStore } from './ephemeral-store.ts'

interface Entry {
  key: string
  value: string
  expiresAt: number
}

/** How often expired entries are dropped. */
const sweepMilliseconds = 1_000

/**
 * The one-process store. Every entry also joins a queue of the entries written with the same
 * lifetime, which is therefore in expiry order: a sweep drops what has expired from the head of
 * each queue and never looks at the rest. (A scan of every entry every ten seconds stalled the
 * event loop for ~30 ms at 500,000 live replay-cache entries, which ~7,000 token requests a second
 * hold.) Lifetimes computed per write (an interaction's remaining seconds) make more queues, one
 * per distinct value, each still in order.
 */
export class MemoryEphemeralStore implements EphemeralStore {
  readonly #entries = new Map<string, Entry>()
  readonly #expiryQueues = new Map<number, ExpiryQueue>()
  readonly #sweeper: NodeJS.Timeout

  constructor() {
    this.#sweeper = setInterval(() => this.#sweep(), sweepMilliseconds)
    this.#sweeper.unref()
  }

  /** Entries held, expired ones included until the next sweep. */
  get size(): number {
    return this.#entries.size
  }

  async addIfAbsent(key: string, ttlSeconds: number): Promise<boolean> {
    if (this.#live(key)) return false
    this.#write(key, '1', ttlSeconds)
    return true
  }

  async increment(key: string, windowSeconds: number): Promise<number> {
    const entry = this.#live(key)
    if (!entry) {
      this.#write(key, '1', windowSeconds)
      return 1
    }
    entry.value = String(Number(entry.value) + 1)
    return Number(entry.value)
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    this.#write(key, value, ttlSeconds)
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

  #write(key: string, value: string, ttlSeconds: number): void {
    const ttl = ttlSeconds * 1000
    const entry = { key, value, expiresAt: Date.now() + ttl }
    this.#entries.set(key, entry)
    let queue = this.#expiryQueues.get(ttl)
    if (!queue) {
      queue = new ExpiryQueue()
      this.#expiryQueues.set(ttl, queue)
    }
    queue.push(entry)
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key)
    return entry && entry.expiresAt > Date.now() ? entry : undefined
  }

  #sweep(): void {
    const now = Date.now()
    for (const [ttl, queue] of this.#expiryQueues) {
      for (let entry = queue.peek(); entry && entry.expiresAt <= now; entry = queue.peek()) {
        queue.shift()
        // A key written again since (or deleted) has left this entry behind.
        if (this.#entries.get(entry.key) === entry) this.#entries.delete(entry.key)
      }
      if (queue.length === 0) this.#expiryQueues.delete(ttl)
    }
  }
}

/** A first-in, first-out queue over an array, compacted as its head advances. */
class ExpiryQueue {
  #items: Entry[] = []
  #head = 0

  get length(): number {
    return this.#items.length - this.#head
  }

  push(entry: Entry): void {
    this.#items.push(entry)
  }

  peek(): Entry | undefined {
    return this.#items[this.#head]
  }

  shift(): void {
    this.#items[this.#head++] = undefined as unknown as Entry
    if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head)
      this.#head = 0
    }
  }
}
