import { GrantType } from '@onramp/protocol'
import { InvalidRequest, OAuthError, UnauthorizedClient } from '../errors/oauth-error.ts'
import { grantedScope } from '../grants/requested-scope.ts'
import type { Client } from '../store/client-store.ts'

/** The anonymous profile and token family a sign-in starts from (PAR `anonymous_token`). */
export interface AnonymousContext {
  profileId: string
  grantId: string
  /** The key the anonymous token is bound to; the code and the new tokens are bound to it too. */
  jkt: string
}

export type Prompt = 'none' | 'login' | 'consent' | 'select_account' | 'create'

const prompts: readonly string[] = ['none', 'login', 'consent', 'select_account', 'create']

/**
 * What the person is asked to do at the hosted login besides signing in (`onramp_action`, as
 * Keycloak's application-initiated actions): `add_passkey` registers another passkey to the
 * account right after the sign-in.
 */
export type LoginAction = 'add_passkey'

/** A validated authorization request (RFC 6749 §4.1.1, RFC 7636, RFC 9449 §10, OIDC). */
export interface AuthorizationRequest {
  clientId: string
  /** Exactly one of the client's registered redirect URIs. */
  redirectUri: string
  scope: string
  state: string | undefined
  /** Absent only for clients exempted from PKCE (`Client.pkceRequired`). */
  codeChallenge: string | undefined
  codeChallengeMethod: 'S256' | undefined
  nonce: string | undefined
  prompt: Prompt[]
  loginHint: string | undefined
  action: LoginAction | undefined
  /** Thumbprint of the key the code is bound to: `dpop_jkt`, the PAR request's proof key, or the anonymous token's. */
  dpopJkt: string | undefined
  anonymous: AnonymousContext | undefined
}

const s256Challenge = /^[A-Za-z0-9_-]{43}$/
const thumbprint = /^[A-Za-z0-9_-]{43}$/
const maxStateLength = 2048

/**
 * The redirect URI to answer to: given, and exactly one the client registered (RFC 9700 §4.1.3:
 * no pattern matching). Errors here must not be redirected anywhere: the caller shows them.
 */
export function checkRedirectURI(client: Client, redirectUri: string | undefined): string {
  if (redirectUri === undefined) throw new InvalidRequest('redirect_uri is required')
  if (!client.redirectUris.includes(redirectUri))
    throw new InvalidRequest('redirect_uri is not registered for this client')
  return redirectUri
}

/**
 * Validates the other parameters, once the client and its redirect URI are known: errors from
 * here may go back to the redirect URI (RFC 6749 §4.1.2.1). `anonymous` is checked by the caller.
 */
export function parseAuthorizationRequest(
  client: Client,
  redirectUri: string,
  params: Readonly<Record<string, string>>,
  options: { dpopJkt: string | undefined; anonymous: AnonymousContext | undefined },
): AuthorizationRequest {
  if (params.request !== undefined)
    throw new OAuthError('request_not_supported', 'request objects are not supported; use PAR')
  const responseType = params.response_type
  if (responseType === undefined) throw new InvalidRequest('response_type is required')
  if (responseType !== 'code') throw new OAuthError('unsupported_response_type', 'response_type must be code')
  if (!client.grantTypes.includes(GrantType.authorizationCode))
    throw new UnauthorizedClient('client may not use the authorization code grant')
  if (params.response_mode !== undefined && params.response_mode !== 'query')
    throw new InvalidRequest('response_mode must be query')

  // PKCE is required, except for clients an administrator exempted (Apple's OAuth 2 enrollment
  // client cannot send a challenge); a challenge that is sent is checked all the same.
  const codeChallenge = params.code_challenge
  if (codeChallenge === undefined) {
    if (client.pkceRequired) throw new InvalidRequest('code_challenge is required (PKCE, S256)')
    if (params.code_challenge_method !== undefined)
      throw new InvalidRequest('code_challenge_method without code_challenge')
  } else {
    if (params.code_challenge_method !== 'S256')
      throw new InvalidRequest('code_challenge_method must be S256')
    if (!s256Challenge.test(codeChallenge))
      throw new InvalidRequest('code_challenge must be 43 base64url characters (S256)')
  }

  if (params.state !== undefined && params.state.length > maxStateLength)
    throw new InvalidRequest(`state must be at most ${maxStateLength} characters`)
  const prompt = parsePrompt(params.prompt)
  const loginHint = params.login_hint
  if (loginHint !== undefined && loginHint.length > 320)
    throw new InvalidRequest('login_hint must be at most 320 characters')

  const action = params.onramp_action
  if (action !== undefined && action !== 'add_passkey')
    throw new InvalidRequest('onramp_action must be add_passkey')

  const dpopJkt = params.dpop_jkt
  if (dpopJkt !== undefined && !thumbprint.test(dpopJkt))
    throw new InvalidRequest('dpop_jkt must be a JWK SHA-256 thumbprint')
  const keys = [dpopJkt, options.dpopJkt, options.anonymous?.jkt].filter((k) => k !== undefined)
  if (new Set(keys).size > 1)
    throw new OAuthError(
      'invalid_dpop_proof',
      'dpop_jkt, the DPoP proof and the anonymous token name different keys',
    )

  return {
    clientId: client.clientId,
    redirectUri,
    scope: grantedScope(params.scope, client.scopes),
    state: params.state,
    codeChallenge,
    codeChallengeMethod: codeChallenge === undefined ? undefined : 'S256',
    nonce: params.nonce,
    prompt,
    loginHint,
    action,
    dpopJkt: keys[0],
    anonymous: options.anonymous,
  }
}

function parsePrompt(value: string | undefined): Prompt[] {
  if (value === undefined) return []
  const values = [...new Set(value.split(' ').filter(Boolean))]
  const unknown = values.filter((p) => !prompts.includes(p))
  if (unknown.length > 0) throw new InvalidRequest(`prompt values not supported: ${unknown.join(' ')}`)
  if (values.includes('none') && values.length > 1)
    throw new InvalidRequest('prompt=none cannot be combined with other values')
  return values as Prompt[]
}

/**
 * The redirect back to the client (RFC 6749 §4.1.2 and §4.1.2.1) with `iss` (RFC 9207): the
 * redirect URI's own query is kept, the response parameters are added to it.
 */
export function authorizationResponseURL(
  redirectUri: string,
  response: Readonly<Record<string, string | undefined>>,
): string {
  const url = new URL(redirectUri)
  for (const [name, value] of Object.entries(response)) {
    if (value !== undefined) url.searchParams.append(name, value)
  }
  return url.toString()
}
