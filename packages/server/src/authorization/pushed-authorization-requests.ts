import { RequestURIPrefix } from '@onramp/protocol'
import { randomToken } from '../crypto/secrets.ts'
import { authorizationStartLimit, type RateLimiter } from '../domain/rate-limiter.ts'
import type { EphemeralStore } from '../ephemeral/ephemeral-store.ts'
import type { AuthorizationRequest } from './authorization-request.ts'

/** Seconds a pushed request may wait for its `/authorize` (RFC 9126 §2.2 suggests 5–600). */
export const pushedRequestLifetime = 90

/**
 * RFC 9126 pushed authorization requests, in the ephemeral store (shared by a cluster's nodes):
 * each `request_uri` is good for one authorization request, for a short time.
 */
export class PushedAuthorizationRequests {
  readonly #store: EphemeralStore
  readonly #rateLimiter: RateLimiter

  constructor(store: EphemeralStore, rateLimiter: RateLimiter) {
    this.#store = store
    this.#rateLimiter = rateLimiter
  }

  /** Keeps the request; `TooManyRequests` when the address pushed too many lately. */
  async push(
    tenantId: string,
    request: AuthorizationRequest,
    clientIP: string,
  ): Promise<{ requestUri: string; expiresIn: number }> {
    await this.#rateLimiter.enforce([
      { key: `par:ip:${tenantId}:${clientIP}`, limit: authorizationStartLimit },
    ])
    const reference = randomToken()
    await this.#store.set(key(tenantId, reference), JSON.stringify(request), pushedRequestLifetime)
    return { requestUri: `${RequestURIPrefix}${reference}`, expiresIn: pushedRequestLifetime }
  }

  /** The pushed request, removed so it cannot be used again; undefined if unknown or expired. */
  async take(tenantId: string, requestUri: string): Promise<AuthorizationRequest | undefined> {
    if (!requestUri.startsWith(RequestURIPrefix)) return undefined
    const reference = requestUri.slice(RequestURIPrefix.length)
    if (!/^[A-Za-z0-9_-]{43}$/.test(reference)) return undefined
    const stored = await this.#store.take(key(tenantId, reference))
    return stored === undefined ? undefined : (JSON.parse(stored) as AuthorizationRequest)
  }
}

function key(tenantId: string, reference: string): string {
  return `par:${tenantId}:${reference}`
}
