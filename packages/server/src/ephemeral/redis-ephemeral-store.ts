import { Redis } from 'ioredis'
import type { EphemeralStore } from './ephemeral-store.ts'

export class RedisEphemeralStore implements EphemeralStore {
  readonly #redis: Redis

  constructor(url: string) {
    this.#redis = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 2, keyPrefix: 'onramp:' })
  }

  async addIfAbsent(key: string, ttlSeconds: number): Promise<boolean> {
    return (await this.#redis.set(key, '1', 'EX', ttlSeconds, 'NX')) === 'OK'
  }

  async increment(key: string, windowSeconds: number): Promise<number> {
    const results = await this.#redis.multi().incr(key).expire(key, windowSeconds, 'NX').exec()
    const [error, count] = results?.[0] ?? [new Error('no reply from Redis')]
    if (error) throw error
    return Number(count)
  }

  async ping(): Promise<void> {
    await this.#redis.ping()
  }

  async close(): Promise<void> {
    await this.#redis.quit()
  }
}
