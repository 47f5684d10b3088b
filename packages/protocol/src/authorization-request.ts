/**
 * Parameters of a pushed authorization request (RFC 9126) at `POST /par`: the usual
 * authorization request, plus Onramp's `anonymous_token` (an anonymous access token of the
 * tenant, with a DPoP proof by its key in the `DPoP` header) to sign in from an anonymous profile.
 */
export interface PushedAuthorizationRequest {
  response_type: 'code'
  client_id: string
  redirect_uri: string
  code_challenge: string
  code_challenge_method: 'S256'
  scope?: string
  state?: string
  nonce?: string
  /** Space-separated: `login`, `create` (open the sign-up page), `consent`, `select_account`, `none`. */
  prompt?: string
  login_hint?: string
  /** RFC 9449 §10: the thumbprint of the key the code (and so the tokens) will be bound to. */
  dpop_jkt?: string
  anonymous_token?: string
}

/** RFC 9126 §2.2: the answer to a pushed authorization request (201). */
export interface PushedAuthorizationResponse {
  request_uri: string
  expires_in: number
}

/** RFC 9126 §2.2: every `request_uri` starts with this. */
export const RequestURIPrefix = 'urn:ietf:params:oauth:request_uri:'
