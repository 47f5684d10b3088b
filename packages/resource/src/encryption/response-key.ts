import type { KeyObject } from 'node:crypto'
import { decodeJSONObject, hasPrivateMembers, importPublicJWK, jwkThumbprint } from '@onramp/crypto'
import { PayloadEncryption } from '@onramp/protocol'
import { Refusal } from '../refusal.ts'

/** The request header by which a client asks for an encrypted response (lower-case, as Node gives it). */
export const responseKeyHeader = PayloadEncryption.responseKeyHeader.toLowerCase()

/** The client's key for this request's response (an EC P-256 public key). */
export interface ResponseKey {
  key: KeyObject
  kid: string | undefined
  /** RFC 7638 thumbprint: the proof's `rkt` must name it. */
  thumbprint: string
}

/** Parses `Onramp-Response-Key: base64url(JSON public JWK)`; refuses anything but a valid P-256 public key. */
export function parseResponseKey(value: string): ResponseKey {
  const jwk = /^[A-Za-z0-9_-]+$/.test(value) ? decodeJSONObject(value) : undefined
  if (!jwk) throw invalid('Onramp-Response-Key is not a base64url JSON object')
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || typeof jwk.x !== 'string' || typeof jwk.y !== 'string') {
    throw invalid('Onramp-Response-Key must be an EC P-256 key')
  }
  if (hasPrivateMembers(jwk)) throw invalid('Onramp-Response-Key must be a public key')
  if (jwk.kid !== undefined && typeof jwk.kid !== 'string')
    throw invalid('Onramp-Response-Key kid must be a string')
  let key: KeyObject
  try {
    key = importPublicJWK({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y })
  } catch {
    throw invalid('Onramp-Response-Key is not a valid P-256 public key')
  }
  return { key, kid: jwk.kid, thumbprint: jwkThumbprint(jwk) }
}

function invalid(message: string): Refusal {
  return new Refusal('invalid_request', message)
}
