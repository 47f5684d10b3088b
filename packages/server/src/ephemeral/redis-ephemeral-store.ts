import { Redis } from 'ioredis'
import { AppError } from '../errors/app-error.ts'
import type { EphemeralStore } from './ephemeral-store.ts'

/**
 * Shared ephemeral state for a cluster. When Redis cannot be reached, commands fail at once
 * (no offline queue) with a 503, rather than holding requests until it comes back.
 */
export class RedisEphemeralStore implements EphemeralStore {
  readonly #redis: Redis

  constructor(url: string) {
    this.#redis = new Redis(url, {
      keyPrefix: 'onramp:',
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      commandTimeout: 2000,
    })
    // Connection errors surface on the commands that need Redis; keep them out of the logs' way.
    this.#redis.on('error', () => {})
  }

  async addIfAbsent(key: string, ttlSeconds: number): Promise<boolean> {
    return this.#call(async () => (await this.#redis.set(key, '1', 'EX', ttlSeconds, 'NX')) === 'OK')
  }

  async increment(key: string, windowSeconds: number): Promise<number> {
    return this.#call(async () => {
      const results = await this.#redis.multi().incr(key).expire(key, windowSeconds, 'NX').exec()
      const [error, count] = results?.[0] ?? [new Error('no reply from Redis')]
      if (error) throw error
      return Number(count)
    })
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    await this.#call(() => this.#redis.set(key, value, 'EX', ttlSeconds))
  }

  async get(key: string): Promise<string | undefined> {
    return this.#call(async () => (await this.#redis.get(key)) ?? undefined)
  }

  async take(key: string): Promise<string | undefined> {
    return this.#call(async () => {
      // GET and DEL in one MULTI: no other client's command runs between them.
      const results = await this.#redis.multi().get(key).del(key).exec()
      const [error, value] = results?.[0] ?? [new Error('no reply from Redis')]
      if (error) throw error
      return typeof value === 'string' ? value : undefined
    })
  }

  async delete(key: string): Promise<void> {
    await this.#call(() => this.#redis.del(key))
  }

  async ping(): Promise<void> {
    await this.#call(() => this.#redis.ping())
  }

  async close(): Promise<void> {
    if (this.#redis.status === 'ready') await this.#redis.quit()
    else this.#redis.disconnect()
  }

  async #call<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command()
    } catch {
      throw new AppError('temporarily_unavailable', 'shared state (Redis) is unavailable; retry later')
    }
  }
}
