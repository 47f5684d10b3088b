/**
 * Short-lived shared state: DPoP `jti` replay caches and rate-limit counters. One process uses
 * memory; several nodes share Redis, so a proof replayed at another node is still caught.
 */
export interface EphemeralStore {
  /** Records `key` for `ttlSeconds`; false when it was already recorded. */
  addIfAbsent(key: string, ttlSeconds: number): Promise<boolean>
  /** Counts one more hit in the fixed window that `key` names; returns the count so far. */
  increment(key: string, windowSeconds: number): Promise<number>
  /** Whether the store answers (for `/readyz`). */
  ping(): Promise<void>
  close(): Promise<void>
}
