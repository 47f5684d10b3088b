import {
  decodeJSONObject,
  isJWSAlgorithm,
  type JWSAlgorithm,
  keyMatchesAlgorithm,
  splitCompactJWS,
  verifySignature,
} from '@onramp/crypto'
import type { AccessTokenClaims } from '@onramp/protocol'
import { Refusal } from '../refusal.ts'
import type { JWKSCache } from './jwks-cache.ts'

interface TokenHeader {
  alg: JWSAlgorithm
  kid: string
}

/** Token headers are the same for every token of one issuer key: parse each only once. */
const headerCacheSize = 1_000

/** Verifies RFC 9068 JWT access tokens of one issuer for one resource (§4 of the RFC). */
export class AccessTokenVerifier {
  readonly #issuer: string
  readonly #audiences: readonly string[]
  readonly #algorithms: ReadonlySet<JWSAlgorithm>
  readonly #clockTolerance: number
  readonly #keys: JWKSCache
  readonly #headers = new Map<string, TokenHeader>()

  constructor(options: {
    issuer: string
    audiences: readonly string[]
    algorithms: readonly JWSAlgorithm[]
    clockTolerance: number
    keys: JWKSCache
  }) {
    this.#issuer = options.issuer
    this.#audiences = options.audiences
    this.#algorithms = new Set(options.algorithms)
    this.#clockTolerance = options.clockTolerance
    this.#keys = options.keys
  }

  /** The token's claims, or a refusal (`invalid_token`, or `temporarily_unavailable` without keys). */
  async verify(token: string, now: number): Promise<AccessTokenClaims> {
    const parts = splitCompactJWS(token)
    if (!parts) throw invalid('the access token is not a JWT')
    const header = this.#header(parts.encodedHeader)
    const issuerKey = await this.#keys.get(header.kid)
    if (!issuerKey) throw invalid('the access token is signed with an unknown key')
    if (
      (issuerKey.alg !== undefined && issuerKey.alg !== header.alg) ||
      !keyMatchesAlgorithm(header.alg, issuerKey)
    ) {
      throw invalid('the access token key does not fit its algorithm')
    }
    if (!verifySignature(header.alg, issuerKey.key, parts.signingInput, parts.signature)) {
      throw invalid('the access token signature is invalid')
    }
    const payload = decodeJSONObject(parts.encodedPayload)
    if (!payload) throw invalid('the access token payload is not a JSON object')
    return this.#checkClaims(payload, now)
  }

  #header(encoded: string): TokenHeader {
    const cached = this.#headers.get(encoded)
    if (cached) return cached
    const header = decodeJSONObject(encoded)
    if (!header) throw invalid('the access token header is not a JSON object')
    if (typeof header.typ !== 'string' || !/^(application\/)?at\+jwt$/i.test(header.typ)) {
      throw invalid('the token is not an access token (typ at+jwt)')
    }
    if (!isJWSAlgorithm(header.alg) || !this.#algorithms.has(header.alg)) {
      throw invalid('the access token algorithm is not accepted')
    }
    if (typeof header.kid !== 'string') throw invalid('the access token has no kid')
    if (header.crit !== undefined) throw invalid('the access token has critical header parameters')
    const parsed = { alg: header.alg, kid: header.kid }
    if (this.#headers.size >= headerCacheSize) this.#headers.delete(this.#headers.keys().next().value!)
    this.#headers.set(encoded, parsed)
    return parsed
  }

  #checkClaims(payload: Record<string, unknown>, now: number): AccessTokenClaims {
    const { iss, aud, exp, nbf, iat, sub, client_id, jti, scope, cnf, acr, amr } = payload
    if (iss !== this.#issuer) throw invalid('the access token is of another issuer')
    const hasAudience =
      typeof aud === 'string'
        ? this.#audiences.includes(aud)
        : Array.isArray(aud) && aud.some((value) => this.#audiences.includes(value as string))
    if (!hasAudience) throw invalid('the access token is for another audience')
    if (typeof exp !== 'number') throw invalid('the access token has no exp')
    if (exp + this.#clockTolerance <= now) throw invalid('the access token has expired')
    if (nbf !== undefined && (typeof nbf !== 'number' || nbf - this.#clockTolerance > now)) {
      throw invalid('the access token is not valid yet')
    }
    if (typeof iat !== 'number' || iat - this.#clockTolerance > now) {
      throw invalid('the access token has no iat, or one in the future')
    }
    if (typeof sub !== 'string' || typeof client_id !== 'string' || typeof jti !== 'string') {
      throw invalid('the access token lacks sub, client_id or jti')
    }
    if (scope !== undefined && typeof scope !== 'string')
      throw invalid('the access token scope is not a string')
    // What applications read from `access.claims` has the types the claims are declared with.
    if (acr !== undefined && typeof acr !== 'string') throw invalid('the access token acr is not a string')
    if (amr !== undefined && !(Array.isArray(amr) && amr.every((method) => typeof method === 'string'))) {
      throw invalid('the access token amr is not an array of strings')
    }
    if (cnf !== undefined) {
      const jkt = typeof cnf === 'object' && cnf !== null ? (cnf as Record<string, unknown>).jkt : undefined
      if (typeof jkt !== 'string') throw invalid('the access token has a cnf claim without jkt')
    }
    return payload as unknown as AccessTokenClaims
  }
}

function invalid(message: string): Refusal {
  return new Refusal('invalid_token', message)
}
