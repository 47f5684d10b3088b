import { PayloadEncryption as Contract } from '@onramp/protocol'
import type { Clock } from '../adapters/clock.ts'
import type { FetchFunction } from '../adapters/fetch.ts'
import {
  createResponseKey,
  decryptPayload,
  type EncryptionKey,
  encryptedBodyHash,
  encryptPayload,
  selectEncryptionKey,
} from '../crypto/jwe.ts'
import { SdkFailure, transportFailure } from './sdk-failure.ts'

/** The encrypted form of one request, and how to read its answer. */
export interface EncryptedRequest {
  /** The compact JWE to send instead of the body; undefined for a request without a body. */
  body: string | undefined
  headers: Record<string, string>
  /** DPoP claims that bind the encryption to the proof (`ebh`, `rkt`). */
  proofClaims: { encryptedBodyHash?: string; responseKeyThumbprint: string }
  /** The `kid` of the backend key the body is encrypted to. */
  kid: string | undefined
  /** The plaintext of the response body and its media type. */
  readResponse(response: { status: number; contentType: string | null; body: Uint8Array }): Promise<{
    body: Uint8Array
    contentType: string | null
  }>
}

/** End-to-end encryption of request and response bodies between the SDK and a backend. */
export interface PayloadEncryptor {
  encryptRequest(request: {
    url: string
    body: Uint8Array | undefined
    contentType: string
    signal: AbortSignal
  }): Promise<EncryptedRequest>
  /**
   * After the backend refused an encrypted body: fetches its key set again and tells whether the
   * key changed (a rotation), so that one more try can succeed.
   */
  hasNewKey(url: string, kid: string, signal: AbortSignal): Promise<boolean>
}

/** How long a key set is kept when the backend does not say (`Cache-Control: max-age`). */
const defaultKeySetAge = 300_000
const longestKeySetAge = 86_400_000

/**
 * The wire contract of `docs/resource-server.md`: a compact JWE (`ECDH-ES+A256KW`, `A256GCM`,
 * `kid`, `cty`) to the first fitting key of `{origin}/.well-known/onramp-encryption-jwks`, sent
 * as `application/jose`; a fresh P-256 key per request in `Onramp-Response-Key`; `ebh` and `rkt`
 * in the DPoP proof; and responses recognised by `Content-Type: application/jose`.
 */
export class JWEPayloadEncryptor implements PayloadEncryptor {
  readonly #fetch: FetchFunction
  readonly #clock: Clock
  readonly #keys = new Map<string, { key: EncryptionKey | undefined; expiresAt: number }>()

  constructor(options: { fetch: FetchFunction; clock: Clock }) {
    this.#fetch = options.fetch
    this.#clock = options.clock
  }

  async encryptRequest(request: {
    url: string
    body: Uint8Array | undefined
    contentType: string
    signal: AbortSignal
  }): Promise<EncryptedRequest> {
    const responseKey = await createResponseKey()
    const headers: Record<string, string> = { [Contract.responseKeyHeader]: responseKey.headerValue }
    let body: string | undefined
    let kid: string | undefined
    let bodyHash: string | undefined
    if (request.body !== undefined) {
      const key = await this.#key(request.url, request.signal, { isRefetch: false })
      body = await encryptPayload(request.body, key, request.contentType)
      kid = key.kid
      bodyHash = await encryptedBodyHash(body)
      headers['content-type'] = Contract.mediaType
    }
    return {
      body,
      headers,
      kid,
      proofClaims: {
        responseKeyThumbprint: responseKey.thumbprint,
        ...(bodyHash !== undefined && { encryptedBodyHash: bodyHash }),
      },
      readResponse: (response) => readResponse(response, responseKey.privateKey),
    }
  }

  async hasNewKey(url: string, kid: string, signal: AbortSignal): Promise<boolean> {
    const key = await this.#key(url, signal, { isRefetch: true }).catch(() => undefined)
    return key !== undefined && key.kid !== kid
  }

  async #key(url: string, signal: AbortSignal, options: { isRefetch: boolean }): Promise<EncryptionKey> {
    const origin = new URL(url).origin
    const cached = this.#keys.get(origin)
    let key = cached?.key
    if (!cached || options.isRefetch || this.#clock.now() >= cached.expiresAt) {
      const fetched = await this.#fetchKeySet(origin, signal)
      this.#keys.set(origin, fetched)
      key = fetched.key
    }
    if (!key) throw new SdkFailure('EncryptionError', `${origin} offers no encryption key`)
    return key
  }

  async #fetchKeySet(
    origin: string,
    signal: AbortSignal,
  ): Promise<{ key: EncryptionKey | undefined; expiresAt: number }> {
    let response: Response
    let json: unknown
    try {
      response = await this.#fetch(`${origin}${Contract.jwksPath}`, {
        headers: { accept: 'application/json' },
        signal,
      })
      json = response.ok ? await response.json().catch(() => undefined) : await response.body?.cancel()
    } catch (error) {
      throw transportFailure(error, 'the backend’s encryption keys')
    }
    if (!response.ok && response.status !== 404)
      throw new SdkFailure('EncryptionError', `the backend’s encryption keys: HTTP ${response.status}`)
    return { key: selectEncryptionKey(json), expiresAt: this.#clock.now() + maxAge(response) }
  }
}

async function readResponse(
  response: { status: number; contentType: string | null; body: Uint8Array },
  privateKey: CryptoKey,
): Promise<{ body: Uint8Array; contentType: string | null }> {
  const mediaType = response.contentType?.split(';')[0]?.trim().toLowerCase()
  if (mediaType === Contract.mediaType) {
    try {
      const { plaintext, contentType } = await decryptPayload(
        new TextDecoder().decode(response.body),
        privateKey,
      )
      return { body: plaintext, contentType: contentType ?? null }
    } catch (error) {
      throw new SdkFailure('EncryptionError', 'the response could not be decrypted', { cause: error })
    }
  }
  // Refusals of the resource kit come in clear so the client can read them; a success never may.
  if (response.body.length === 0 || response.status >= 400) return response
  throw new SdkFailure('EncryptionError', `the backend answered ${response.status} without encryption`)
}

function maxAge(response: Response): number {
  const seconds = /(?:^|,)\s*max-age=(\d+)/i.exec(response.headers.get('cache-control') ?? '')?.[1]
  return seconds === undefined ? defaultKeySetAge : Math.min(Number(seconds) * 1000, longestKeySetAge)
}
