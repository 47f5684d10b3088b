/**
 * Error codes of RFC 6749 §4.1.2.1 and §5.2, RFC 6750 §3.1, RFC 8693 §2.2.2, RFC 9126 §2.3,
 * RFC 9449 §5 and §7.1, and OpenID Connect Core §3.1.2.6 (`login_required`).
 */
export const OAuthErrorCodes = [
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_target',
  'invalid_token',
  'insufficient_scope',
  'invalid_dpop_proof',
  'use_dpop_nonce',
  'access_denied',
  'unsupported_response_type',
  'invalid_request_uri',
  'request_not_supported',
  'login_required',
  'unsupported_token_type',
  'temporarily_unavailable',
  'server_error',
] as const

export type OAuthErrorCode = (typeof OAuthErrorCodes)[number]

/** The JSON body of every OAuth error response. */
export interface OAuthErrorResponse {
  error: OAuthErrorCode
  error_description?: string
}
