import { InProcessLock } from './in-process-lock.ts'
import type { JsonValue, Storage } from './storage.ts'

/**
 * Storage that lasts as long as the object: tests, and apps that enroll anew on every launch.
 * Values are kept as JSON text, so callers never share mutable objects with the store. Controllers
 * that share one instance share its lock too.
 */
export class MemoryStorage implements Storage {
  readonly lock = new InProcessLock()
  readonly #records = new Map<string, string>()

  async get(key: string): Promise<JsonValue | undefined> {
    const text = this.#records.get(key)
    return text === undefined ? undefined : (JSON.parse(text) as JsonValue)
  }

  async set(key: string, value: JsonValue): Promise<void> {
    this.#records.set(key, JSON.stringify(value))
  }

  async delete(key: string): Promise<void> {
    this.#records.delete(key)
  }
}
