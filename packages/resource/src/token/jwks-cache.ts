import type { KeyObject } from 'node:crypto'
import { hasPrivateMembers, importPublicJWK, isJWSAlgorithm, type JWSAlgorithm } from '@onramp/crypto'
import { Refusal } from '../refusal.ts'

/** One of the issuer's signing keys. */
export interface IssuerKey {
  key: KeyObject
  kty: string
  crv: string | undefined
  /** The JWK's `alg`, when it names one: the key is then usable with that algorithm only. */
  alg: JWSAlgorithm | undefined
}

/** Keys older than this are refreshed in the background, still in use meanwhile. */
const maxAgeMilliseconds = 5 * 60_000
/** At most one refetch per this interval for tokens naming a `kid` we do not know. */
const unknownKidCooldownMilliseconds = 30_000
/** After a failed fetch with no keys at all, wait this long before asking again. */
const retryAfterFailureMilliseconds = 5_000
const fetchTimeoutMilliseconds = 5_000

/**
 * The issuer's JWKS, fetched on first use and kept as node:crypto KeyObjects. Concurrent fetches
 * are coalesced; an unknown `kid` refetches, rate-limited so made-up `kid`s cannot flood the issuer.
 */
export class JWKSCache {
  readonly #uri: string
  #keys = new Map<string, IssuerKey>()
  #loadedAt: number | undefined
  #failedAt = Number.NEGATIVE_INFINITY
  #unknownKidRefreshAt = Number.NEGATIVE_INFINITY
  #inFlight: Promise<void> | undefined

  constructor(uri: string) {
    this.#uri = uri
  }

  /** The key named `kid`, or undefined; throws a `temporarily_unavailable` refusal when no keys can be loaded. */
  async get(kid: string): Promise<IssuerKey | undefined> {
    const now = Date.now()
    if (this.#loadedAt === undefined) {
      if (!this.#inFlight && now - this.#failedAt < retryAfterFailureMilliseconds) throw unavailable()
      await this.#refresh()
      if (this.#loadedAt === undefined) throw unavailable()
      return this.#keys.get(kid)
    }
    if (now - this.#loadedAt > maxAgeMilliseconds) {
      this.#refresh().catch(() => {})
    }
    const key = this.#keys.get(kid)
    if (key) return key
    if (this.#inFlight) {
      await this.#inFlight
    } else if (now - this.#unknownKidRefreshAt >= unknownKidCooldownMilliseconds) {
      this.#unknownKidRefreshAt = now
      await this.#refresh()
    }
    return this.#keys.get(kid)
  }

  /** One fetch at a time; failures keep the keys we have. */
  #refresh(): Promise<void> {
    this.#inFlight ??= this.#fetch()
      .then(
        (keys) => {
          this.#keys = keys
          this.#loadedAt = Date.now()
        },
        () => {
          this.#failedAt = Date.now()
        },
      )
      .finally(() => {
        this.#inFlight = undefined
      })
    return this.#inFlight
  }

  async #fetch(): Promise<Map<string, IssuerKey>> {
    const response = await fetch(this.#uri, {
      headers: { accept: 'application/jwk-set+json, application/json' },
      signal: AbortSignal.timeout(fetchTimeoutMilliseconds),
    })
    if (!response.ok) throw new Error(`JWKS answered ${response.status}`)
    const body = (await response.json()) as { keys?: unknown }
    if (!Array.isArray(body?.keys)) throw new Error('JWKS has no keys array')
    const keys = new Map<string, IssuerKey>()
    for (const jwk of body.keys as unknown[]) {
      const key = parseKey(jwk)
      if (key) keys.set(key.kid, key.key)
    }
    return keys
  }
}

function parseKey(jwk: unknown): { kid: string; key: IssuerKey } | undefined {
  if (typeof jwk !== 'object' || jwk === null) return undefined
  const record = jwk as Record<string, unknown>
  if (typeof record.kid !== 'string' || hasPrivateMembers(record)) return undefined
  if (record.use !== undefined && record.use !== 'sig') return undefined
  if (record.alg !== undefined && !isJWSAlgorithm(record.alg)) return undefined
  try {
    return {
      kid: record.kid,
      key: {
        key: importPublicJWK(record),
        kty: String(record.kty),
        crv: typeof record.crv === 'string' ? record.crv : undefined,
        alg: record.alg,
      },
    }
  } catch {
    return undefined
  }
}

function unavailable(): Refusal {
  return new Refusal('temporarily_unavailable', "the issuer's signing keys are unavailable")
}
