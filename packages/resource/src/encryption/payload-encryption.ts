import { createPrivateKey, createPublicKey, type JsonWebKey, KeyObject } from 'node:crypto'
import { PayloadEncryption as PayloadEncryptionContract } from '@onramp/protocol'
import { CompactEncrypt, compactDecrypt } from 'jose'
import { Refusal } from '../refusal.ts'
import type { ResponseKey } from './response-key.ts'

/** Key management and content encryption, both directions (docs/resource-server.md). */
export const keyManagementAlgorithm = PayloadEncryptionContract.keyManagementAlgorithm
export const contentEncryptionAlgorithm = PayloadEncryptionContract.contentEncryptionAlgorithm
/** Media type of a compact JWE body. */
export const joseMediaType = PayloadEncryptionContract.mediaType
/** Where the integrations publish the resource's encryption keys by default. */
export const defaultEncryptionJWKSPath = PayloadEncryptionContract.jwksPath
/** How long clients may cache the encryption keys. */
export const encryptionJWKSCacheControl = 'public, max-age=300'

/** An EC private key as a JWK (WebCrypto's `exportKey('jwk')` and node:crypto's `export` both fit). */
export interface PrivateJWK {
  kty?: string
  crv?: string
  x?: string
  y?: string
  d?: string
}

/** One of the resource's encryption keys: an EC P-256 private key. */
export interface EncryptionKeyInput {
  privateKey: PrivateJWK | KeyObject
  kid: string
}

export interface EncryptionOptions extends EncryptionKeyInput {
  /** Keys replaced by a rotation: still used to decrypt, no longer published. */
  previousKeys?: readonly EncryptionKeyInput[]
}

export interface EncryptionJWK {
  kty: 'EC'
  crv: 'P-256'
  x: string
  y: string
  kid: string
  use: 'enc'
  alg: typeof keyManagementAlgorithm
}

/** What `GET /.well-known/onramp-encryption-jwks` serves. */
export interface EncryptionJWKS {
  keys: EncryptionJWK[]
}

export interface DecryptedPayload {
  plaintext: Uint8Array
  /** The JWE's `cty`: the media type of the plaintext. */
  contentType: string
}

/** End-to-end payload encryption: request bodies to our key, responses to the client's. */
export class PayloadEncryption {
  readonly #keys = new Map<string, KeyObject>()
  readonly #jwks: EncryptionJWKS

  constructor(options: EncryptionOptions) {
    const current = importEncryptionKey(options)
    this.#keys.set(options.kid, current)
    for (const previous of options.previousKeys ?? []) {
      if (!this.#keys.has(previous.kid)) this.#keys.set(previous.kid, importEncryptionKey(previous))
    }
    const { x, y } = createPublicKey(current).export({ format: 'jwk' })
    this.#jwks = {
      keys: [
        { kty: 'EC', crv: 'P-256', x: x!, y: y!, kid: options.kid, use: 'enc', alg: keyManagementAlgorithm },
      ],
    }
  }

  get jwks(): EncryptionJWKS {
    return this.#jwks
  }

  async decrypt(jwe: string): Promise<DecryptedPayload> {
    let result: Awaited<ReturnType<typeof compactDecrypt>>
    try {
      result = await compactDecrypt(
        jwe,
        (header) => {
          const key = typeof header.kid === 'string' ? this.#keys.get(header.kid) : undefined
          if (!key) throw new Error('unknown kid')
          return key
        },
        {
          keyManagementAlgorithms: [keyManagementAlgorithm],
          contentEncryptionAlgorithms: [contentEncryptionAlgorithm],
        },
      )
    } catch {
      throw new Refusal('invalid_request', 'the request body cannot be decrypted')
    }
    const { cty } = result.protectedHeader
    if (typeof cty !== 'string' || cty === '') {
      throw new Refusal('invalid_request', 'the encrypted request body has no cty')
    }
    return { plaintext: result.plaintext, contentType: cty }
  }

  async encrypt(plaintext: Uint8Array, contentType: string, to: ResponseKey): Promise<string> {
    return new CompactEncrypt(plaintext)
      .setProtectedHeader({
        alg: keyManagementAlgorithm,
        enc: contentEncryptionAlgorithm,
        cty: contentType,
        ...(to.kid !== undefined && { kid: to.kid }),
      })
      .encrypt(to.key)
  }
}

function importEncryptionKey(input: EncryptionKeyInput): KeyObject {
  if (typeof input.kid !== 'string' || input.kid === '')
    throw new TypeError('encryption kid must be a string')
  const key =
    input.privateKey instanceof KeyObject
      ? input.privateKey
      : createPrivateKey({ key: input.privateKey as JsonWebKey, format: 'jwk' })
  if (
    key.type !== 'private' ||
    key.asymmetricKeyType !== 'ec' ||
    key.asymmetricKeyDetails?.namedCurve !== 'prime256v1'
  ) {
    throw new TypeError(`encryption key ${input.kid} must be an EC P-256 private key`)
  }
  return key
}
