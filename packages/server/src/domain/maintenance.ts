import type { Store } from '../store/stores.ts'
import type { Clock } from './clock.ts'

export interface SweepResult {
  refreshTokens: number
  signingKeys: number
}

/** Rows deleted per statement, so a sweep never holds the database for long. */
const batchSize = 1000

/**
 * Deletes what can no longer be used: refresh tokens past their expiry (used ones included:
 * presenting them again can no longer be told apart from an unknown token) and retired signing
 * keys whose tokens have all expired.
 */
export async function sweepExpired(store: Store, clock: Clock): Promise<SweepResult> {
  const now = clock.now()
  let refreshTokens = 0
  for (let deleted = batchSize; deleted === batchSize; refreshTokens += deleted) {
    deleted = await store.refreshTokens.deleteExpired(now, batchSize)
  }
  return { refreshTokens, signingKeys: await store.signingKeys.deleteUnpublished(now) }
}
