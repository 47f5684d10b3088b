/**
 * Short-lived shared state: DPoP `jti` replay caches, rate-limit and login-failure counters,
 * pushed authorization requests and hosted-login interactions. One process uses memory; several
 * nodes share Redis, so whatever one node records, the others see.
 */
export interface EphemeralStore {
  /** Records `key` for `ttlSeconds`; false when it was already recorded. */
  addIfAbsent(key: string, ttlSeconds: number): Promise<boolean>
  /** Counts one more hit in the fixed window that `key` names; returns the count so far. */
  increment(key: string, windowSeconds: number): Promise<number>
  /** Stores `value` under `key` for `ttlSeconds`, replacing what was there. */
  set(key: string, value: string, ttlSeconds: number): Promise<void>
  /** The value under `key`, unless it expired. */
  get(key: string): Promise<string | undefined>
  /** Reads and deletes `key` at once: of several concurrent takers, one gets the value. */
  take(key: string): Promise<string | undefined>
  delete(key: string): Promise<void>
  /** Whether the store answers (for `/readyz`). */
  ping(): Promise<void>
  close(): Promise<void>
}
