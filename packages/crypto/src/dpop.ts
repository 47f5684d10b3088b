import type { KeyObject } from 'node:crypto'
import { decodeJSONObject } from './compact-jws.ts'
import { jwkThumbprint } from './jwk-thumbprint.ts'
import {
  hasPrivateMembers,
  importPublicJWK,
  isJWSAlgorithm,
  type JWSAlgorithm,
  keyMatchesAlgorithm,
} from './jws-algorithms.ts'

/** What a DPoP proof's protected header yields once checked: its algorithm, key and thumbprint. */
export interface DPoPHeaderKey {
  alg: JWSAlgorithm
  key: KeyObject
  /** RFC 7638 thumbprint of the key: what tokens are bound to (`cnf.jkt`). */
  jkt: string
}

/** A DPoP proof header that fails RFC 9449 §4.3; the message is for the client. */
export class DPoPHeaderError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'DPoPHeaderError'
  }
}

/**
 * Checked DPoP proof headers by their text. A client signs every proof with the same protected
 * header, so it is parsed, checked and its key imported and thumbprinted once per device; past
 * `size` headers the oldest is dropped. Headers that fail are not kept.
 */
export class DPoPHeaderCache {
  readonly #entries = new Map<string, DPoPHeaderKey>()
  readonly #size: number

  constructor(size = 10_000) {
    this.#size = size
  }

  /** The header's algorithm, key and thumbprint; throws `DPoPHeaderError` when it fails RFC 9449 §4.3. */
  get(encodedHeader: string): DPoPHeaderKey {
    let entry = this.#entries.get(encodedHeader)
    if (!entry) {
      entry = checkDPoPHeader(encodedHeader)
      if (this.#entries.size >= this.#size) this.#entries.delete(this.#entries.keys().next().value!)
      this.#entries.set(encodedHeader, entry)
    }
    return entry
  }
}

/**
 * Checks a DPoP proof's protected header (base64url, as in the proof) per RFC 9449 §4.3: `typ`
 * `dpop+jwt`, an asymmetric `alg`, and a public `jwk` of the kind `alg` needs, which is imported.
 */
function checkDPoPHeader(encodedHeader: string): DPoPHeaderKey {
  const header = decodeJSONObject(encodedHeader)
  if (!header) throw new DPoPHeaderError('the DPoP proof header is not a JSON object')
  if (header.typ !== 'dpop+jwt') throw new DPoPHeaderError('the DPoP proof typ must be dpop+jwt')
  const alg = header.alg
  if (!isJWSAlgorithm(alg)) {
    throw new DPoPHeaderError('the DPoP proof alg must be an asymmetric JWS algorithm')
  }
  const jwk = header.jwk
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
    throw new DPoPHeaderError('the DPoP proof has no jwk header')
  }
  const jwkRecord = jwk as Record<string, unknown>
  if (hasPrivateMembers(jwkRecord)) throw new DPoPHeaderError('the DPoP proof jwk must be a public key')
  if (!keyMatchesAlgorithm(alg, jwkRecord))
    throw new DPoPHeaderError('the DPoP proof jwk does not fit its alg')
  try {
    return { alg, key: importPublicJWK(jwkRecord), jkt: jwkThumbprint(jwkRecord) }
  } catch {
    throw new DPoPHeaderError('the DPoP proof jwk is not a valid public key')
  }
}

/**
 * RFC 9449 §4.3: `htu` is compared without query and fragment, after RFC 3986 §6.2.2–6.2.3
 * normalisation (scheme and host case, default port, percent-encoding case). Undefined when the
 * value is not an absolute URL.
 */
export function normalizeHTU(value: string): string | undefined {
  if (!URL.canParse(value)) return undefined
  const url = new URL(value)
  return `${url.protocol}//${url.host}${url.pathname.replace(/%[0-9a-f]{2}/gi, (s) => s.toUpperCase())}`
}
