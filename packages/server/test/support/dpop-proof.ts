import { createHash, randomUUID } from 'node:crypto'
import type { CryptoKeyPair } from 'oauth4webapi'

export interface ProofClaims {
  htm: string
  htu: string
  iat?: number
  jti?: string
  ath?: string
  nonce?: string
  [claim: string]: unknown
}

export interface ProofOptions {
  /** Replaces or adds header members; `undefined` removes one. */
  header?: Record<string, unknown>
  /** Replaces the signature part (base64url). */
  signature?: string
}

/**
 * A DPoP proof built by hand (WebCrypto: ES256 with a P-256 key, `EdDSA` with an Ed25519 key),
 * so the tests can send the malformed and hostile proofs that oauth4webapi would never make.
 */
export async function createProof(
  keyPair: CryptoKeyPair,
  claims: ProofClaims,
  options: ProofOptions = {},
): Promise<string> {
  const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', keyPair.publicKey)
  const isEd25519 = keyPair.privateKey.algorithm.name === 'Ed25519'
  const header: Record<string, unknown> = {
    typ: 'dpop+jwt',
    alg: isEd25519 ? 'EdDSA' : 'ES256',
    jwk: isEd25519 ? { kty, crv, x } : { kty, crv, x, y },
  }
  for (const [name, value] of Object.entries(options.header ?? {})) {
    if (value === undefined) delete header[name]
    else header[name] = value
  }
  const payload = { iat: Math.floor(Date.now() / 1000), jti: randomUUID(), ...claims }
  const signingInput = `${encode(header)}.${encode(payload)}`
  const signature =
    options.signature ??
    Buffer.from(
      await crypto.subtle.sign(
        isEd25519 ? { name: 'Ed25519' } : { name: 'ECDSA', hash: 'SHA-256' },
        keyPair.privateKey,
        new TextEncoder().encode(signingInput),
      ),
    ).toString('base64url')
  return `${signingInput}.${signature}`
}

/** An unsigned JWT (`alg` of the caller's choice, empty or arbitrary signature). */
export function createUnsignedJWT(header: Record<string, unknown>, payload: Record<string, unknown>): string {
  return `${encode(header)}.${encode(payload)}.`
}

/** `ath`: base64url SHA-256 of the access token (RFC 9449 §4.2). */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken).digest('base64url')
}

function encode(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}
