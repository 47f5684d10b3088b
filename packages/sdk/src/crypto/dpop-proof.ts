import type { DPoPProofClaims, DPoPProofHeader } from '@onramp/protocol'
import { base64url, calculateJwkThumbprint } from 'jose'
import { randomId } from './random.ts'

export interface DPoPProofOptions {
  method: string
  /** The request URL; the proof's `htu` is this without query and fragment. */
  url: string
  /** The access token presented with the request: the proof then carries its hash (`ath`). */
  accessToken?: string
  /** The server's latest `DPoP-Nonce`. */
  nonce?: string
  /** Payload encryption: `ebh`, the hash of the compact JWE body. */
  encryptedBodyHash?: string
  /** Payload encryption: `rkt`, the thumbprint of the `Onramp-Response-Key`. */
  responseKeyThumbprint?: string
  /** Seconds since the epoch; the system clock by default. */
  now?: number
}

const publicJWKs = new WeakMap<CryptoKey, Promise<JsonWebKey>>()
const encoder = new TextEncoder()

/**
 * An RFC 9449 DPoP proof signed with an ECDSA P-256 key (ES256). WebCrypto's ECDSA signature is
 * already the `r || s` form JOSE uses, so the private key may be non-extractable.
 */
export async function createDPoPProof(keyPair: CryptoKeyPair, options: DPoPProofOptions): Promise<string> {
  const header: DPoPProofHeader = { typ: 'dpop+jwt', alg: 'ES256', jwk: await publicJWK(keyPair.publicKey) }
  const claims: DPoPProofClaims = {
    jti: randomId(),
    htm: options.method.toUpperCase(),
    htu: htuOf(options.url),
    iat: options.now ?? Math.floor(Date.now() / 1000),
    ...(options.accessToken !== undefined && { ath: await accessTokenHash(options.accessToken) }),
    ...(options.nonce !== undefined && { nonce: options.nonce }),
    ...(options.encryptedBodyHash !== undefined && { ebh: options.encryptedBodyHash }),
    ...(options.responseKeyThumbprint !== undefined && { rkt: options.responseKeyThumbprint }),
  }
  const signingInput = `${encodeJSON(header)}.${encodeJSON(claims)}`
  const signature = await crypto.subtle.sign(
    { name: 'ECDSA', hash: 'SHA-256' },
    keyPair.privateKey,
    encoder.encode(signingInput),
  )
  return `${signingInput}.${base64url.encode(new Uint8Array(signature))}`
}

/** `htu`: the URL without query and fragment (RFC 9449 §4.2). */
export function htuOf(url: string): string {
  const parsed = new URL(url)
  return `${parsed.origin}${parsed.pathname}`
}

/** `ath`: base64url SHA-256 of the access token (RFC 9449 §4.2). */
export async function accessTokenHash(accessToken: string): Promise<string> {
  return base64url.encode(new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(accessToken))))
}

/** RFC 7638 thumbprint of the key: what the server binds tokens to (`cnf.jkt`). */
export async function calculateJKT(publicKey: CryptoKey): Promise<string> {
  return calculateJwkThumbprint(await publicJWK(publicKey), 'sha256')
}

/** The public JWK members of an EC key, exported once per key. */
function publicJWK(publicKey: CryptoKey): Promise<JsonWebKey> {
  let jwk = publicJWKs.get(publicKey)
  if (!jwk) {
    jwk = crypto.subtle.exportKey('jwk', publicKey).then(({ kty, crv, x, y }) => ({ kty, crv, x, y }))
    publicJWKs.set(publicKey, jwk)
  }
  return jwk
}

function encodeJSON(value: unknown): string {
  return base64url.encode(JSON.stringify(value))
}
