/**
 * Where DPoP proof `jti`s are remembered. One process can keep them in memory; several instances
 * behind a load balancer must share one store (e.g. Redis `SET key 1 EX ttl NX`), or a proof
 * replayed to another instance goes unnoticed.
 */
export interface ReplayCache {
  /** Records `key` for `ttlSeconds`; true only for the first caller within that time. Must be atomic. */
  addIfAbsent(key: string, ttlSeconds: number): Promise<boolean>
}
