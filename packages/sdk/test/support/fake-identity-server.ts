import type { AppConfigResponse } from '@onramp/protocol'
import { GrantType } from '@onramp/protocol'
import { base64url } from 'jose'
import type { FetchFunction } from '../../src/index.ts'

/**
 * An identity server in a function, for unit tests of the controller without sockets: anonymous
 * enrollment, refresh with rotation (reuse is `invalid_grant`), token exchange, `/app-config`.
 * Tokens are unsigned JWTs with `sub` and `exp`; the SDK does not verify them.
 */
export class FakeIdentityServer {
  readonly serverUrl = 'https://id.example'
  readonly calls: { path: string; grantType: string | undefined }[] = []
  /** Every request fails as if the network were down. */
  isDown = false
  accessTokenTtl = 300
  appConfig: AppConfigResponse = { status: 'ok' }
  /** Answer this OAuth error to refresh requests. */
  refreshError: string | undefined
  readonly #refreshTokens = new Set<string>()
  #counter = 0

  readonly fetch: FetchFunction = async (input, init) => {
    const url = new URL(String(input instanceof Request ? input.url : input))
    const params = new URLSearchParams(typeof init?.body === 'string' ? init.body : '')
    this.calls.push({ path: url.pathname, grantType: params.get('grant_type') ?? undefined })
    if (this.isDown) throw new TypeError('fetch failed')
    if (url.pathname.endsWith('/app-config')) return Response.json(this.appConfig)
    if (url.pathname.endsWith('/revoke')) return new Response(null, { status: 200 })
    if (!url.pathname.endsWith('/token')) return Response.json({ error: 'not_found' }, { status: 404 })
    if (!new Headers(init?.headers).get('dpop')) return oauthError('invalid_dpop_proof')
    switch (params.get('grant_type')) {
      case GrantType.anonymous:
        return Response.json({ ...this.#tokens('aud'), device_id: `device-${++this.#counter}` })
      case GrantType.refreshToken: {
        if (this.refreshError) return oauthError(this.refreshError)
        const token = params.get('refresh_token') ?? ''
        if (!this.#refreshTokens.delete(token)) return oauthError('invalid_grant')
        return Response.json(this.#tokens('aud'))
      }
      case GrantType.tokenExchange:
        return Response.json({
          access_token: this.#jwt(params.get('audience') ?? ''),
          token_type: 'DPoP',
          expires_in: this.accessTokenTtl,
          issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        })
      default:
        return oauthError('unsupported_grant_type')
    }
  }

  /** How many requests went to `path` (with that grant type). */
  count(path: string, grantType?: string): number {
    return this.calls.filter(
      (c) => c.path.endsWith(path) && (grantType === undefined || c.grantType === grantType),
    ).length
  }

  #tokens(audience: string): Record<string, unknown> {
    const refreshToken = `rt-${++this.#counter}`
    this.#refreshTokens.add(refreshToken)
    return {
      access_token: this.#jwt(audience),
      token_type: 'DPoP',
      expires_in: this.accessTokenTtl,
      refresh_token: refreshToken,
    }
  }

  #jwt(audience: string): string {
    const now = Math.floor(Date.now() / 1000)
    const part = (value: unknown): string => base64url.encode(JSON.stringify(value))
    return `${part({ alg: 'none', typ: 'at+jwt' })}.${part({ sub: 'subject-1', aud: audience, exp: now + this.accessTokenTtl, jti: String(++this.#counter) })}.`
  }
}

function oauthError(error: string): Response {
  return Response.json({ error, error_description: `fake ${error}` }, { status: 400 })
}
