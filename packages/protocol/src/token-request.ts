import type { AuthenticationMode } from './authentication-mode.ts'
import type { GrantType } from './grant-types.ts'
import type { TokenType } from './token-types.ts'

/** Form parameters of anonymous enrollment at `POST /token` (a DPoP proof is required). */
export interface AnonymousGrantRequest {
  grant_type: typeof GrantType.anonymous
  client_id: string
  authentication_mode: AuthenticationMode
  scope?: string
  /** `true` when the device key is kept in hardware. */
  hardware_key?: 'true' | 'false'
}

/** Form parameters of the refresh token grant (offline login and silent refresh). */
export interface RefreshTokenGrantRequest {
  grant_type: typeof GrantType.refreshToken
  client_id: string
  refresh_token: string
  scope?: string
}

/** Form parameters of RFC 8693 token exchange for a registered resource's audience. */
export interface TokenExchangeRequest {
  grant_type: typeof GrantType.tokenExchange
  client_id: string
  subject_token: string
  subject_token_type: typeof TokenType.accessToken
  audience: string
  scope?: string
  requested_token_type?: typeof TokenType.accessToken
}

/** Form parameters of RFC 7009 revocation by a public client. */
export interface RevocationRequest {
  client_id: string
  token: string
  token_type_hint?: 'refresh_token' | 'access_token'
}
