import type { Clock } from '../adapters/clock.ts'
import type { FetchFunction } from '../adapters/fetch.ts'
import { createDPoPProof } from '../crypto/dpop-proof.ts'
import type { CreateHttpCommonRequest, ExchangedToken } from '../events.ts'
import { Deadline } from './deadline.ts'
import { challengeError, type DPoPNonces } from './dpop-nonces.ts'
import type { EncryptedRequest, PayloadEncryptor } from './payload-encryption.ts'
import { SdkFailure, transportFailure } from './sdk-failure.ts'

export interface HttpClientContext {
  fetch: FetchFunction
  clock: Clock
  nonces: DPoPNonces
  deviceKey: CryptoKeyPair
  /** The audience's token; `forceUpdate` after the backend refused the last one. */
  token(audience: string, options: { forceUpdate: boolean }): Promise<ExchangedToken>
  encryptor: PayloadEncryptor
  /** Milliseconds, when the request names no `timeout`. */
  defaultTimeout: number
}

export interface CommonResponse {
  httpStatus: number
  headers: Record<string, string>
  body: string
}

/** What the next try sends; retries change the token or the encryption. */
interface Attempt {
  url: string
  method: string
  headers: Record<string, string> | undefined
  body: Uint8Array | undefined
  token: ExchangedToken
  encrypted: EncryptedRequest | undefined
}

const methodPattern = /^[A-Za-z]{1,20}$/

/**
 * Calls a backend with the audience's exchanged token and a DPoP proof (`ath`, `htm`, `htu`).
 * Retries once each: with the backend's nonce after `use_dpop_nonce`; with a newly exchanged
 * token after `invalid_token` (it expired or was revoked); with the backend's new key after it
 * refused an encrypted body and its key set changed.
 */
export async function sendCommonRequest(
  request: CreateHttpCommonRequest,
  context: HttpClientContext,
): Promise<CommonResponse> {
  const checked = checkRequest(request)
  const deadline = new Deadline(request.timeout ?? context.defaultTimeout)
  try {
    return await sendWithin(request, checked, context, deadline)
  } finally {
    deadline.clear()
  }
}

async function sendWithin(
  request: CreateHttpCommonRequest,
  { url, method, body }: { url: string; method: string; body: string | Uint8Array | undefined },
  context: HttpClientContext,
  deadline: Deadline,
): Promise<CommonResponse> {
  const bodyBytes = typeof body === 'string' ? new TextEncoder().encode(body) : body
  const contentType =
    headerValue(request.headers, 'content-type') ??
    (typeof body === 'string' ? 'text/plain;charset=UTF-8' : 'application/octet-stream')
  const encrypt = (): Promise<EncryptedRequest> =>
    context.encryptor.encryptRequest({ url, body: bodyBytes, contentType, signal: deadline.signal })

  const attempt: Attempt = {
    url,
    method,
    headers: request.headers,
    body: bodyBytes,
    token: await deadline.race(context.token(request.audience, { forceUpdate: false })),
    encrypted: request.encrypt ? await encrypt() : undefined,
  }
  const retried = { nonce: false, token: false, key: false }
  for (;;) {
    const { response, body: responseBody } = await sendOnce(attempt, context, deadline)
    const nonce = context.nonces.remember(url, response)
    if (response.status === 401) {
      const error = challengeError(response)
      if (error === 'use_dpop_nonce' && nonce !== undefined && !retried.nonce) {
        retried.nonce = true
        continue
      }
      if (error === 'invalid_token' && !retried.token) {
        retried.token = true
        attempt.token = await deadline.race(context.token(request.audience, { forceUpdate: true }))
        continue
      }
    }
    const kid = attempt.encrypted?.kid
    if (response.status === 400 && kid !== undefined && !retried.key) {
      retried.key = true
      if (await context.encryptor.hasNewKey(url, kid, deadline.signal)) {
        attempt.encrypted = await encrypt()
        continue
      }
    }
    return readResponse(response, responseBody, attempt.encrypted)
  }
}

/** One try: the token in `Authorization`, a fresh proof with the origin's latest nonce. */
async function sendOnce(
  attempt: Attempt,
  context: HttpClientContext,
  deadline: Deadline,
): Promise<{ response: Response; body: Uint8Array }> {
  const { token, encrypted } = attempt
  const headers = new Headers(attempt.headers)
  headers.set('authorization', `${token.tokenType} ${token.accessToken}`)
  if (token.tokenType === 'DPoP') {
    const proof = await createDPoPProof(context.deviceKey, {
      method: attempt.method,
      url: attempt.url,
      accessToken: token.accessToken,
      nonce: context.nonces.get(attempt.url),
      now: Math.floor(context.clock.now() / 1000),
      ...encrypted?.proofClaims,
    })
    headers.set('dpop', proof)
  }
  for (const [name, value] of Object.entries(encrypted?.headers ?? {})) headers.set(name, value)
  try {
    const response = await context.fetch(attempt.url, {
      method: attempt.method,
      headers,
      body: encrypted ? encrypted.body : (attempt.body as Uint8Array<ArrayBuffer> | undefined),
      signal: deadline.signal,
    })
    return { response, body: new Uint8Array(await response.arrayBuffer()) }
  } catch (error) {
    throw transportFailure(error, new URL(attempt.url).origin)
  }
}

async function readResponse(
  response: Response,
  body: Uint8Array,
  encrypted: EncryptedRequest | undefined,
): Promise<CommonResponse> {
  const headers: Record<string, string> = {}
  response.headers.forEach((value, name) => {
    headers[name] = value
  })
  let plaintext = body
  if (encrypted) {
    const read = await encrypted.readResponse({
      status: response.status,
      contentType: response.headers.get('content-type'),
      body,
    })
    plaintext = read.body
    delete headers['content-length']
    if (read.contentType === null) delete headers['content-type']
    else headers['content-type'] = read.contentType
  }
  return { httpStatus: response.status, headers, body: new TextDecoder().decode(plaintext) }
}

function checkRequest(request: CreateHttpCommonRequest): {
  url: string
  method: string
  body: string | Uint8Array | undefined
} {
  let url: URL
  try {
    url = new URL(request.url)
  } catch {
    throw new SdkFailure('InvalidInput', 'url must be an absolute URL')
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new SdkFailure('InvalidInput', 'url must be http: or https:')
  if (typeof request.method !== 'string' || !methodPattern.test(request.method))
    throw new SdkFailure('InvalidInput', 'method must be an HTTP method name')
  if (typeof request.audience !== 'string' || request.audience.length === 0)
    throw new SdkFailure('InvalidInput', 'audience is required')
  const { body } = request
  if (body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array))
    throw new SdkFailure('InvalidInput', 'body must be a string or a Uint8Array')
  if (request.timeout !== undefined && !(Number.isFinite(request.timeout) && request.timeout > 0))
    throw new SdkFailure('InvalidInput', 'timeout must be a positive number of milliseconds')
  return { url: url.href, method: request.method.toUpperCase(), body }
}

function headerValue(headers: Record<string, string> | undefined, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers ?? {})) if (key.toLowerCase() === name) return value
  return undefined
}
