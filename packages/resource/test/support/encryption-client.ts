import { CompactEncrypt, compactDecrypt, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose'
import { thumbprint } from './dpop.ts'
import { encode } from './issuer.ts'

/**
 * The client side of payload encryption, written with jose from docs/resource-server.md: what the
 * SDK does.
 */
export async function encryptBody(
  resourceJWK: JWK,
  plaintext: string,
  contentType: string,
  header: Record<string, unknown> = {},
): Promise<string> {
  const key = await importJWK(resourceJWK, 'ECDH-ES+A256KW')
  return new CompactEncrypt(new TextEncoder().encode(plaintext))
    .setProtectedHeader({
      alg: 'ECDH-ES+A256KW',
      enc: 'A256GCM',
      kid: resourceJWK.kid,
      cty: contentType,
      ...header,
    })
    .encrypt(key)
}

export interface ResponseKeyPair {
  privateKey: CryptoKey
  publicJWK: { kty: string; crv: string; x: string; y: string }
  /** The `Onramp-Response-Key` header value. */
  header: string
  /** The proof's `rkt`. */
  thumbprint: string
}

export async function createResponseKey(): Promise<ResponseKeyPair> {
  const { privateKey, publicKey } = await generateKeyPair('ECDH-ES+A256KW', { extractable: true })
  const { kty, crv, x, y } = (await exportJWK(publicKey)) as ResponseKeyPair['publicJWK']
  const publicJWK = { kty, crv, x, y }
  return { privateKey, publicJWK, header: encode(publicJWK), thumbprint: thumbprint(publicJWK) }
}

export async function decryptResponse(
  jwe: string,
  key: ResponseKeyPair,
): Promise<{ text: string; contentType: unknown }> {
  const { plaintext, protectedHeader } = await compactDecrypt(jwe, key.privateKey, {
    keyManagementAlgorithms: ['ECDH-ES+A256KW'],
    contentEncryptionAlgorithms: ['A256GCM'],
  })
  return { text: new TextDecoder().decode(plaintext), contentType: protectedHeader.cty }
}
