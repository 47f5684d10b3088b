import {
  DPoPHeaderCache,
  DPoPHeaderError,
  type DPoPHeaderKey,
  decodeJSONObject,
  normalizeHTU,
  sha256Base64url,
  splitCompactJWS,
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
  readonly #headers = new DPoPHeaderCache()

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
    const parts = splitCompactJWS(proof)
    if (!parts) throw invalid('DPoP proof is malformed: not a compact JWS')
    const payload = decodeJSONObject(parts.encodedPayload)
    if (!payload) throw invalid('DPoP proof is malformed: payload is not a JSON object')
    const { alg, key, jkt } = this.#headerKey(parts.encodedHeader)
    if (!(await verifySignatureInThreadPool(alg, key, parts.signingInput, parts.signature)))
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

  /** The checked header's algorithm, key and thumbprint, kept per device (`DPoPHeaderCache`). */
  #headerKey(encodedHeader: string): DPoPHeaderKey {
    try {
      return this.#headers.get(encodedHeader)
    } catch (error) {
      if (error instanceof DPoPHeaderError) throw invalid(error.message)
      throw error
    }
  }
}

function invalid(message: string): DPoPProofError {
  return new DPoPProofError('invalid_dpop_proof', message)
}
