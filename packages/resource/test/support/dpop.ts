import { createHash, generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto'
import { encode, signJWT } from './issuer.ts'

export interface DPoPKey {
  privateKey: KeyObject
  publicJWK: { kty: string; crv: string; x: string; y: string }
  /** RFC 7638 thumbprint: what a token is bound to (`cnf.jkt`). */
  jkt: string
}

export function createDPoPKey(): DPoPKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' }) as DPoPKey['publicJWK']
  return { privateKey, publicJWK: { kty, crv, x, y }, jkt: thumbprint({ kty, crv, x, y }) }
}

export interface ProofOptions {
  htm: string
  htu: string
  /** The access token, for `ath`. */
  token?: string
  /** Claims to replace or add (`undefined` removes one). */
  claims?: Record<string, unknown>
  header?: Record<string, unknown>
}

/** A DPoP proof (RFC 9449 §4.2) by `key`, with `ath` when a token is given. */
export function createProof(key: DPoPKey, options: ProofOptions): string {
  const payload: Record<string, unknown> = {
    jti: randomUUID(),
    htm: options.htm,
    htu: options.htu,
    iat: Math.floor(Date.now() / 1000),
    ...(options.token !== undefined && { ath: sha256(options.token) }),
    ...options.claims,
  }
  return signJWT(
    key.privateKey,
    { typ: 'dpop+jwt', alg: 'ES256', jwk: key.publicJWK, ...options.header },
    payload,
  )
}

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('base64url')
}

export function thumbprint(jwk: { kty: string; crv: string; x: string; y: string }): string {
  return sha256(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }))
}

/** `Onramp-Response-Key` value for a public JWK. */
export function responseKeyHeaderValue(jwk: object): string {
  return encode(jwk)
}
