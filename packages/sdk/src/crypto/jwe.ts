import { PayloadEncryption } from '@onramp/protocol'
import { base64url, CompactEncrypt, calculateJwkThumbprint, compactDecrypt, importJWK, type JWK } from 'jose'

/** A resource server's public encryption key, as its encryption JWKS lists it. */
export type EncryptionKey = { kid: string; jwk: JWK }

/** A key pair made for one request, to which the resource encrypts its response. */
export interface ResponseKey {
  privateKey: CryptoKey
  /** The `Onramp-Response-Key` header: base64url of the public JWK's JSON. */
  headerValue: string
  /** RFC 7638 thumbprint of the public JWK: the DPoP proof's `rkt`. */
  thumbprint: string
}

const { keyManagementAlgorithm: alg, contentEncryptionAlgorithm: enc } = PayloadEncryption

/**
 * The first key of an encryption JWKS that fits the contract: EC P-256, `use` `enc`, `alg`
 * `ECDH-ES+A256KW`, with a `kid`; undefined when there is none.
 */
export function selectEncryptionKey(jwks: unknown): EncryptionKey | undefined {
  const keys = (jwks as { keys?: unknown } | null)?.keys
  if (!Array.isArray(keys)) return undefined
  for (const key of keys as JWK[]) {
    if (
      key?.kty === 'EC' &&
      key.crv === 'P-256' &&
      key.use === 'enc' &&
      key.alg === alg &&
      typeof key.kid === 'string' &&
      typeof key.x === 'string' &&
      typeof key.y === 'string'
    ) {
      return { kid: key.kid, jwk: { kty: key.kty, crv: key.crv, x: key.x, y: key.y } }
    }
  }
  return undefined
}

/** A compact JWE of the plaintext to the resource's key; `contentType` becomes `cty`. */
export async function encryptPayload(
  plaintext: Uint8Array,
  recipient: EncryptionKey,
  contentType: string,
): Promise<string> {
  return new CompactEncrypt(plaintext)
    .setProtectedHeader({ alg, enc, kid: recipient.kid, cty: contentType })
    .encrypt(await importJWK(recipient.jwk, alg))
}

/** A fresh P-256 key pair for one request's response; the private key is non-extractable. */
export async function createResponseKey(): Promise<ResponseKey> {
  const keyPair = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, [
    'deriveBits',
  ])
  const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', keyPair.publicKey)
  const jwk = { kty, crv, x, y }
  return {
    privateKey: keyPair.privateKey,
    headerValue: base64url.encode(JSON.stringify(jwk)),
    thumbprint: await calculateJwkThumbprint(jwk as JWK, 'sha256'),
  }
}

/** The plaintext of a compact JWE encrypted to the response key, and its media type (`cty`). */
export async function decryptPayload(
  jwe: string,
  privateKey: CryptoKey,
): Promise<{ plaintext: Uint8Array; contentType: string | undefined }> {
  const { plaintext, protectedHeader } = await compactDecrypt(jwe, privateKey, {
    keyManagementAlgorithms: [alg],
    contentEncryptionAlgorithms: [enc],
  })
  return { plaintext, contentType: typeof protectedHeader.cty === 'string' ? protectedHeader.cty : undefined }
}

/** `ebh`: base64url SHA-256 of the compact JWE body exactly as sent. */
export async function encryptedBodyHash(jwe: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(jwe))
  return base64url.encode(new Uint8Array(digest))
}
