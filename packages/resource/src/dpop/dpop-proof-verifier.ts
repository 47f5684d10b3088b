import {
  DPoPHeaderCache,
  DPoPHeaderError,
  type DPoPHeaderKey,
  decodeJSONObject,
  normalizeHTU,
  sha256Base64url,
  splitCompactJWS,
  verifySignature,
} from '@onramp/crypto'
import { Refusal } from '../refusal.ts'
import type { DPoPNonces } from './dpop-nonces.ts'
import type { ReplayCache } from './replay-cache.ts'

export interface DPoPProofCheck {
  method: string
  /** The request's externally visible URL, already normalised with `normalizeHTU`. */
  url: string
  accessToken: string
  /** The token's `cnf.jkt`: the proof must be signed by that key. */
  jkt: string
  /** Seconds since the epoch. */
  now: number
}

/** The proof's claims, for the checks that depend on the rest of the request (`ebh`, `rkt`). */
export type DPoPProofClaims = Readonly<Record<string, unknown>>

/** Verifies RFC 9449 DPoP proofs at a resource server (§4.3 and §7.1). */
export class DPoPProofVerifier {
  readonly #maxAge: number
  readonly #clockTolerance: number
  readonly #replays: ReplayCache
  readonly #nonces: DPoPNonces | undefined
  readonly #headers = new DPoPHeaderCache()

  constructor(options: {
    maxAge: number
    clockTolerance: number
    replayCache: ReplayCache
    nonces: DPoPNonces | undefined
  }) {
    this.#maxAge = options.maxAge
    this.#clockTolerance = options.clockTolerance
    this.#replays = options.replayCache
    this.#nonces = options.nonces
  }

  /** A fresh nonce, when nonces are required. */
  nonce(now: number): string | undefined {
    return this.#nonces?.current(now)
  }

  async verify(proof: string, check: DPoPProofCheck): Promise<DPoPProofClaims> {
    const parts = splitCompactJWS(proof)
    if (!parts) throw invalid('the DPoP proof is not a JWT')
    const header = this.#header(parts.encodedHeader)
    if (header.jkt !== check.jkt) throw invalid("the DPoP proof key is not the access token's key")
    const payload = decodeJSONObject(parts.encodedPayload)
    if (!payload) throw invalid('the DPoP proof payload is not a JSON object')
    const { jti, htm, htu, iat, ath } = payload
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256) {
      throw invalid('the DPoP proof jti is missing or too long')
    }
    if (htm !== check.method) throw invalid('htm does not match the request method')
    if (typeof htu !== 'string' || (htu !== check.url && normalizeHTU(htu) !== check.url)) {
      throw invalid('htu does not match the request URL')
    }
    if (typeof iat !== 'number' || !Number.isFinite(iat)) throw invalid('the DPoP proof has no iat')
    if (iat > check.now + this.#clockTolerance || iat < check.now - this.#maxAge) {
      throw invalid('the DPoP proof iat is outside the accepted window')
    }
    if (ath !== sha256Base64url(check.accessToken)) throw invalid('ath does not match the access token')
    if (!verifySignature(header.alg, header.key, parts.signingInput, parts.signature)) {
      throw invalid('the DPoP proof signature is invalid')
    }
    if (
      this.#nonces &&
      (typeof payload.nonce !== 'string' || !this.#nonces.isValid(payload.nonce, check.now))
    ) {
      throw new Refusal('use_dpop_nonce', 'Resource server requires nonce in DPoP proof', {
        nonce: this.#nonces.current(check.now),
      })
    }
    // Last: a proof that fails any other check must not use up its jti.
    let isFresh: boolean
    try {
      isFresh = await this.#replays.addIfAbsent(`${header.jkt}:${jti}`, this.#maxAge + this.#clockTolerance)
    } catch {
      throw new Refusal('temporarily_unavailable', 'the DPoP replay check is unavailable')
    }
    if (!isFresh) throw invalid('the DPoP proof has been used before')
    return payload
  }

  #header(encoded: string): DPoPHeaderKey {
    try {
      return this.#headers.get(encoded)
    } catch (error) {
      if (error instanceof DPoPHeaderError) throw invalid(error.message)
      throw error
    }
  }
}

function invalid(message: string): Refusal {
  return new Refusal('invalid_dpop_proof', message)
}
