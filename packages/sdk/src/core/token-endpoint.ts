import type { OAuthErrorResponse, TokenResponse } from '@onramp/protocol'
import type { Clock } from '../adapters/clock.ts'
import type { FetchFunction } from '../adapters/fetch.ts'
import { createDPoPProof } from '../crypto/dpop-proof.ts'
import { Deadline } from './deadline.ts'
import type { DPoPNonces } from './dpop-nonces.ts'
import { SdkFailure, transportFailure } from './sdk-failure.ts'

export interface TokenEndpointOptions {
  /** The tenant's issuer, `{serverUrl}/t/{tenantId}`. */
  issuer: string
  clientId: string
  fetch: FetchFunction
  nonces: DPoPNonces
  clock: Clock
  /** Milliseconds for each request. */
  timeout: number
}

/** The tenant's token and revocation endpoints, as a public client that proves its key with DPoP. */
export class TokenEndpoint {
  readonly url: string
  readonly #options: TokenEndpointOptions

  constructor(options: TokenEndpointOptions) {
    this.#options = options
    this.url = `${options.issuer}/token`
  }

  /**
   * A token request with a DPoP proof of `deviceKey`. A `use_dpop_nonce` answer is retried once
   * with the server's nonce; every other error becomes an `SdkFailure` with the OAuth code.
   */
  async request(parameters: Record<string, string>, deviceKey: CryptoKeyPair): Promise<TokenResponse> {
    return parseTokenResponse(await this.#postWithProof(this.url, parameters, deviceKey))
  }

  /**
   * RFC 9126 pushed authorization request, with a DPoP proof of `deviceKey` (the code is then
   * bound to it); the `request_uri` and its lifetime in seconds.
   */
  async pushAuthorizationRequest(
    parameters: Record<string, string>,
    deviceKey: CryptoKeyPair,
  ): Promise<{ requestUri: string; expiresIn: number }> {
    const json = (await this.#postWithProof(`${this.#options.issuer}/par`, parameters, deviceKey)) as
      | { request_uri?: unknown; expires_in?: unknown }
      | undefined
    if (typeof json?.request_uri !== 'string' || typeof json.expires_in !== 'number')
      throw new SdkFailure(
        'ServerError',
        'the pushed authorization request was answered without a request_uri',
      )
    return { requestUri: json.request_uri, expiresIn: json.expires_in }
  }

  async #postWithProof(
    url: string,
    parameters: Record<string, string>,
    deviceKey: CryptoKeyPair,
  ): Promise<unknown> {
    const body = new URLSearchParams({ ...parameters, client_id: this.#options.clientId }).toString()
    for (let attempt = 1; ; attempt++) {
      const proof = await createDPoPProof(deviceKey, {
        method: 'POST',
        url,
        nonce: this.#options.nonces.get(url),
        now: Math.floor(this.#options.clock.now() / 1000),
      })
      const { response, json } = await this.#post(url, body, { dpop: proof })
      const nonce = this.#options.nonces.remember(url, response)
      if (response.ok) return json
      const error = json as Partial<OAuthErrorResponse> | undefined
      if (error?.error === 'use_dpop_nonce' && nonce !== undefined && attempt === 1) continue
      throw failureOfResponse(response.status, error)
    }
  }

  /** RFC 7009 revocation of the token's whole family; the server answers 200 even for unknown tokens. */
  async revoke(token: string): Promise<void> {
    const body = new URLSearchParams({
      client_id: this.#options.clientId,
      token,
      token_type_hint: 'refresh_token',
    }).toString()
    const { response, json } = await this.#post(`${this.#options.issuer}/revoke`, body, {})
    if (!response.ok) throw failureOfResponse(response.status, json as Partial<OAuthErrorResponse>)
  }

  async #post(
    url: string,
    body: string,
    headers: Record<string, string>,
  ): Promise<{ response: Response; json: unknown }> {
    const deadline = new Deadline(this.#options.timeout)
    try {
      const response = await this.#options.fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
          ...headers,
        },
        body,
        signal: deadline.signal,
      })
      const text = await response.text()
      return { response, json: parseJSON(text) }
    } catch (error) {
      throw transportFailure(error, 'the identity server')
    } finally {
      deadline.clear()
    }
  }
}

/**
 * The status of an error answer: `RateLimited` for 429, `ServerError` for 5xx and answers that
 * are not OAuth errors, else by OAuth code: a refused grant ends the session, a refused audience
 * is `AccessDenied`, and whatever else the server refuses is how the SDK was set up.
 */
export function failureOfResponse(
  httpStatus: number,
  error: Partial<OAuthErrorResponse> | undefined,
): SdkFailure {
  const code = typeof error?.error === 'string' ? error.error : undefined
  const description = typeof error?.error_description === 'string' ? `: ${error.error_description}` : ''
  const detail = `${code ?? `HTTP ${httpStatus}`}${description}`
  const options = code === undefined ? {} : { oauthError: code }
  if (httpStatus === 429) return new SdkFailure('RateLimited', detail, options)
  if (httpStatus >= 500 || code === undefined) return new SdkFailure('ServerError', detail, options)
  switch (code) {
    case 'invalid_grant':
      return new SdkFailure('SessionExpired', detail, options)
    case 'invalid_target':
    case 'access_denied':
    case 'insufficient_scope':
      return new SdkFailure('AccessDenied', detail, options)
    default:
      return new SdkFailure('ConfigurationError', detail, options)
  }
}

/** RFC 7235's token68: what an access token must be to go in an `Authorization` header. */
const token68 = /^[A-Za-z0-9\-._~+/]+=*$/
/** RFC 6749 Appendix A.17: a refresh token is 1*VSCHAR. */
const visibleCharacters = /^[\x20-\x7e]+$/

function parseTokenResponse(json: unknown): TokenResponse {
  const response = json as Partial<TokenResponse> | undefined
  if (
    typeof response?.access_token !== 'string' ||
    !token68.test(response.access_token) ||
    typeof response.token_type !== 'string' ||
    typeof response.expires_in !== 'number' ||
    !(response.expires_in > 0)
  ) {
    throw new SdkFailure('ServerError', 'the token endpoint answered without a usable access token')
  }
  const refreshToken: unknown = response.refresh_token
  if (
    refreshToken !== undefined &&
    !(typeof refreshToken === 'string' && visibleCharacters.test(refreshToken))
  ) {
    throw new SdkFailure('ServerError', 'the token endpoint answered with an unusable refresh token')
  }
  return response as TokenResponse
}

function parseJSON(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
