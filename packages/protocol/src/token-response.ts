import type { TokenType } from './token-types.ts'

/** RFC 6749 §5.1 access token response, with the RFC 8693 and Onramp members. */
export interface TokenResponse {
  access_token: string
  token_type: 'DPoP' | 'Bearer' | 'N_A'
  expires_in: number
  refresh_token?: string
  scope?: string
  /** Set by anonymous enrollment: the device the proof's key is now bound to. */
  device_id?: string
  /** Set by token exchange (RFC 8693 §2.2.1). */
  issued_token_type?: TokenType
}

/** Claims of an RFC 9068 access token issued by Onramp. */
export interface AccessTokenClaims {
  iss: string
  sub: string
  aud: string | string[]
  client_id: string
  scope?: string
  iat: number
  exp: number
  jti: string
  acr?: string
  amr?: string[]
  sid?: string
  cnf?: { jkt: string }
}

/** `acr` of an anonymous subject's tokens. */
export const AnonymousACR = '0'

/**
 * `acr` of a person's tokens after a sign-in with one factor at the hosted login: a local
 * account's password (`amr` `pwd`). See docs/progressive-authentication.md for the levels.
 */
export const PasswordACR = '1'

/**
 * `acr` of a person's tokens after a phishing-resistant sign-in at the hosted login: a passkey
 * with user verification (`amr` `hwk` or `swk`, `user`, `mfa`).
 */
export const PasskeyACR = '2'
