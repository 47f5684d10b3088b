import type { KeyObject } from 'node:crypto'
import {
  decodeJWS,
  hasPrivateMembers,
  importPublicJWK,
  isJWSAlgorithm,
  JWSFormatError,
  jwkThumbprint,
  keyMatchesAlgorithm,
  sha256Base64url,
  verifySignatureInThreadPool,
} from '@onramp/crypto'
import type { Clock } from '../domain/clock.ts'
import type { EphemeralStore } from '../ephemeral/ephemeral-store.ts'
import type { DPoPNonces } from './dpop-nonces.ts'

export interface VerifiedDPoPProof {
  /** RFC 7638 thumbprint of the proof's key: what tokens are bound to (`cnf.jkt`). */
  jkt: string
  jti: string
  iat: number
}

export interface DPoPCheck {
  tenantId: string
  method: string
  /** The URL the client was meant to call, as the server publishes it. */
  url: string
  /** The access token the proof accompanies, when there is one (checked against `ath`). */
  accessToken?: string
  requireNonce?: boolean
}

export type DPoPFailure = 'invalid_dpop_proof' | 'use_dpop_nonce'

export class DPoPProofError extends Error {
  readonly code: DPoPFailure
  /** With `use_dpop_nonce`: the nonce to retry with. */
  readonly nonce: string | undefined
  constructor(code: DPoPFailure, message: string, nonce?: string) {
    super(message)
    this.name = 'DPoPProofError'
    this.code = code
    this.nonce = nonce
  }
}

/** Seconds a proof may claim to come from the future (clock skew). */
const futureSkew = 5

/** Verifies RFC 9449 DPoP proofs (§4.3), with a replay cache and optional server nonces. */
export class DPoPVerifier {
  readonly #replays: EphemeralStore
  readonly #nonces: DPoPNonces
  readonly #clock: Clock
  readonly #maxAge: number
  readonly #keys = new Map<string, { key: KeyObject; jkt: string }>()

  constructor(options: { replayCache: EphemeralStore; nonces: DPoPNonces; clock: Clock; maxAge: number }) {
    this.#replays = options.replayCache
    this.#nonces = options.nonces
    this.#clock = options.clock
    this.#maxAge = options.maxAge
  }

  nonce(tenantId: string): string {
    return this.#nonces.current(tenantId, this.#clock.now())
  }

  async verify(proof: string, check: DPoPCheck): Promise<VerifiedDPoPProof> {
    let decoded: ReturnType<typeof decodeJWS>
    try {
      decoded = decodeJWS(proof)
    } catch (error) {
      if (error instanceof JWSFormatError)
        throw new DPoPProofError('invalid_dpop_proof', `DPoP proof is malformed: ${error.message}`)
      throw error
    }
    const { header, payload } = decoded
    if (header.typ !== 'dpop+jwt') throw invalid('typ must be "dpop+jwt"')
    if (!isJWSAlgorithm(header.alg)) throw invalid('alg must be an asymmetric JWS algorithm')
    const jwk = header.jwk
    if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw invalid('jwk header is missing')
    const jwkRecord = jwk as Record<string, unknown>
    if (hasPrivateMembers(jwkRecord)) throw invalid('jwk must be a public key')
    if (!keyMatchesAlgorithm(header.alg, jwkRecord)) throw invalid('jwk does not fit alg')
    const { key, jkt } = this.#importKey(jwkRecord)
    if (!(await verifySignatureInThreadPool(header.alg, key, decoded.signingInput, decoded.signature)))
      throw invalid('signature is invalid')

    const { jti, htm, htu, iat } = payload
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256)
      throw invalid('jti is missing or too long')
    if (htm !== check.method) throw invalid('htm does not match the request method')
    // The same text is the same URL; anything else is compared normalised.
    if (typeof htu !== 'string' || (htu !== check.url && normalizeHTU(htu) !== normalizeHTU(check.url)))
      throw invalid('htu does not match the request URL')
    const now = this.#clock.now()
    if (typeof iat !== 'number' || !Number.isFinite(iat)) throw invalid('iat is missing')
    if (iat > now + futureSkew || iat < now - this.#maxAge)
      throw invalid('iat is outside the accepted window')
    if (check.accessToken !== undefined) {
      if (payload.ath !== sha256Base64url(check.accessToken))
        throw invalid('ath does not match the access token')
    }
    if (check.requireNonce) {
      if (typeof payload.nonce !== 'string' || !this.#nonces.isValid(check.tenantId, payload.nonce, now)) {
        throw new DPoPProofError(
          'use_dpop_nonce',
          'Authorization server requires nonce in DPoP proof',
          this.nonce(check.tenantId),
        )
      }
    }
    // Last: a proof that fails any other check must not use up its jti.
    const fresh = await this.#replays.addIfAbsent(
      `dpop:${check.tenantId}:${jkt}:${jti}`,
      this.#maxAge + futureSkew,
    )
    if (!fresh) throw invalid('DPoP proof has been used before')
    return { jkt, jti, iat }
  }

  #importKey(jwk: Record<string, unknown>): { key: KeyObject; jkt: string } {
    const cacheKey = `${jwk.kty}.${jwk.crv}.${jwk.x}.${jwk.y}.${jwk.n}.${jwk.e}`
    let entry = this.#keys.get(cacheKey)
    if (!entry) {
      try {
        entry = { key: importPublicJWK(jwk), jkt: jwkThumbprint(jwk) }
      } catch {
        throw invalid('jwk is not a valid public key')
      }
      if (this.#keys.size >= 10_000) this.#keys.clear()
      this.#keys.set(cacheKey, entry)
    }
    return entry
  }
}

function invalid(message: string): DPoPProofError {
  return new DPoPProofError('invalid_dpop_proof', message)
}

/** RFC 9449 §4.3: compare without query and fragment, after RFC 3986 §6.2.2–6.2.3 normalisation. */
export function normalizeHTU(value: string): string | undefined {
  try {
    const url = new URL(value)
    return `${url.protocol}//${url.host}${url.pathname.replace(/%[0-9a-f]{2}/gi, (s) => s.toUpperCase())}`
  } catch {
    return undefined
  }
}
