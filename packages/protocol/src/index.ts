export type { AppConfigQuery, AppConfigResponse, AppVersionStatus } from './app-config.ts'
export { AppVersionStatuses } from './app-config.ts'
export type { AuthenticationMode } from './authentication-mode.ts'
export { AuthenticationModes, amrForMode, isAuthenticationMode } from './authentication-mode.ts'
export type {
  PushedAuthorizationRequest,
  PushedAuthorizationResponse,
} from './authorization-request.ts'
export { RequestURIPrefix } from './authorization-request.ts'
export type { DPoPProofClaims, DPoPProofHeader } from './dpop.ts'
export { DPoPNonceHeader } from './dpop.ts'
export { GrantType } from './grant-types.ts'
export type { OAuthErrorCode, OAuthErrorResponse } from './oauth-errors.ts'
export { OAuthErrorCodes } from './oauth-errors.ts'
export { PayloadEncryption } from './payload-encryption.ts'
export type {
  AnonymousGrantRequest,
  RefreshTokenGrantRequest,
  RevocationRequest,
  TokenExchangeRequest,
} from './token-request.ts'
export type { AccessTokenClaims, TokenResponse } from './token-response.ts'
export { AnonymousACR, PasskeyACR, PasswordACR } from './token-response.ts'
export { TokenType } from './token-types.ts'
