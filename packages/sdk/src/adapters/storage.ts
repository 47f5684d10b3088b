import type { Lock } from './lock.ts'

/** A JSON value as storage adapters keep it; `undefined` members are dropped when written. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue | undefined }

export type JsonObject = { [key: string]: JsonValue | undefined }

/**
 * Where the SDK keeps its state: a few small JSON records under string keys, one namespace per
 * SDK instance. Each `set` replaces one record atomically: a reader, or the next launch after a
 * crash, sees the old value or the new one, never a mix of both. The SDK keeps everything that
 * must change together (a rotated refresh token and the access token that came with it) in one
 * record, so this is all the atomicity it needs.
 */
export interface Storage {
  get(key: string): Promise<JsonValue | undefined>
  set(key: string, value: JsonValue): Promise<void>
  delete(key: string): Promise<void>
  /**
   * The lock of this namespace, shared by every context that can open it (tabs, processes); the
   * SDK rotates the refresh token holding it. A storage without one gets an `InProcessLock`,
   * which is right only when one context at a time uses the namespace.
   */
  readonly lock?: Lock
}
