import assert from 'node:assert/strict'
import { GrantType, TokenType } from '@onramp/protocol'
import * as oauth from 'oauth4webapi'

/**
 * The strict client side of the end-to-end tests: oauth4webapi, an independent implementation
 * that validates every response it reads. The tests talk plain HTTP on 127.0.0.1.
 */
export const insecure = { [oauth.allowInsecureRequests]: true } as const

export const demo = { tenant: 'demo', client: 'demo-app', resource: 'demo-api' } as const

/** The seeded public client, as oauth4webapi describes it. */
export const demoClient: oauth.Client = { client_id: demo.client, token_endpoint_auth_method: 'none' }

export async function discover(
  issuer: string,
  options?: { algorithm?: 'oidc' | 'oauth2' },
): Promise<oauth.AuthorizationServer> {
  const issuerURL = new URL(issuer)
  const response = await oauth.discoveryRequest(issuerURL, { ...insecure, algorithm: options?.algorithm })
  return oauth.processDiscoveryResponse(issuerURL, response)
}

/** A device key: the key pair, oauth4webapi's DPoP handle over it (it tracks nonces) and its thumbprint. */
export interface DeviceKey {
  keyPair: oauth.CryptoKeyPair
  dpop: oauth.DPoPHandle
  jkt: string
}

export async function createDeviceKey(options?: { alg?: string }): Promise<DeviceKey> {
  const keyPair = await oauth.generateKeyPair(options?.alg ?? 'ES256')
  const dpop = oauth.DPoP(demoClient, keyPair)
  return { keyPair, dpop, jkt: await dpop.calculateThumbprint() }
}

export interface EnrollOptions {
  mode?: 'no' | 'password' | 'biometric'
  scope?: string
  hardwareKey?: boolean
  client?: oauth.Client
  /** Omit the DPoP proof. */
  withoutProof?: boolean
}

export function enrollRequest(
  as: oauth.AuthorizationServer,
  key: DeviceKey,
  options: EnrollOptions = {},
): Promise<Response> {
  const parameters: Record<string, string> = { authentication_mode: options.mode ?? 'no' }
  if (options.scope !== undefined) parameters.scope = options.scope
  if (options.hardwareKey !== undefined) parameters.hardware_key = String(options.hardwareKey)
  return oauth.genericTokenEndpointRequest(
    as,
    options.client ?? demoClient,
    oauth.None(),
    GrantType.anonymous,
    parameters,
    { ...insecure, ...(!options.withoutProof && { DPoP: key.dpop }) },
  )
}

/** Anonymous enrollment through the strict client: the response must pass its validation. */
export async function enroll(
  as: oauth.AuthorizationServer,
  key: DeviceKey,
  options: EnrollOptions = {},
): Promise<oauth.TokenEndpointResponse> {
  const response = await enrollRequest(as, key, options)
  return oauth.processGenericTokenEndpointResponse(as, options.client ?? demoClient, response)
}

export interface RefreshOptions {
  scope?: string
  client?: oauth.Client
  auth?: oauth.ClientAuth
  /** Another key's proof, or none. */
  dpop?: oauth.DPoPHandle | null
}

export async function refresh(
  as: oauth.AuthorizationServer,
  key: DeviceKey | undefined,
  refreshToken: string,
  options: RefreshOptions = {},
): Promise<oauth.TokenEndpointResponse> {
  const client = options.client ?? demoClient
  const dpop = options.dpop === undefined ? key?.dpop : (options.dpop ?? undefined)
  const response = await oauth.refreshTokenGrantRequest(
    as,
    client,
    options.auth ?? oauth.None(),
    refreshToken,
    {
      ...insecure,
      ...(dpop && { DPoP: dpop }),
      ...(options.scope !== undefined && { additionalParameters: { scope: options.scope } }),
    },
  )
  return oauth.processRefreshTokenResponse(as, client, response)
}

export interface ExchangeOptions {
  audience?: string
  scope?: string
  client?: oauth.Client
  auth?: oauth.ClientAuth
  dpop?: oauth.DPoPHandle | null
  extra?: Record<string, string>
}

export async function exchange(
  as: oauth.AuthorizationServer,
  key: DeviceKey | undefined,
  subjectToken: string,
  options: ExchangeOptions = {},
): Promise<oauth.TokenEndpointResponse> {
  const client = options.client ?? demoClient
  const dpop = options.dpop === undefined ? key?.dpop : (options.dpop ?? undefined)
  const parameters: Record<string, string> = {
    subject_token: subjectToken,
    subject_token_type: TokenType.accessToken,
    audience: options.audience ?? demo.resource,
    ...(options.scope !== undefined && { scope: options.scope }),
    ...options.extra,
  }
  const response = await oauth.genericTokenEndpointRequest(
    as,
    client,
    options.auth ?? oauth.None(),
    GrantType.tokenExchange,
    parameters,
    { ...insecure, ...(dpop && { DPoP: dpop }) },
  )
  return oauth.processGenericTokenEndpointResponse(as, client, response)
}

/** Userinfo through the strict client, with a DPoP proof by the key (when given). */
export async function userinfo(
  as: oauth.AuthorizationServer,
  key: DeviceKey | undefined,
  accessToken: string,
): Promise<oauth.UserInfoResponse> {
  const response = await oauth.userInfoRequest(as, demoClient, accessToken, {
    ...insecure,
    ...(key && { DPoP: key.dpop }),
  })
  return oauth.processUserInfoResponse(as, demoClient, oauth.skipSubjectCheck, response)
}

/** The unverified header and claims of a JWT (the tests check what the server put in). */
export function decodeJWT(token: string): {
  header: Record<string, unknown>
  payload: Record<string, unknown>
} {
  const [header, payload] = token.split('.')
  return {
    header: JSON.parse(Buffer.from(header!, 'base64url').toString('utf8')) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as Record<string, unknown>,
  }
}

/**
 * Asserts that a strict-client call failed with an OAuth error: a JSON error body with `error`
 * (oauth4webapi's `ResponseBodyError`), or a `WWW-Authenticate` challenge whose body is checked too.
 */
export async function rejectsWithOAuthError(
  promise: Promise<unknown>,
  expected: { error: string; status: number },
): Promise<{
  body: Record<string, unknown>
  response: Response
  challenges?: oauth.WWWAuthenticateChallenge[]
}> {
  let caught: unknown
  try {
    await promise
  } catch (error) {
    caught = error
  }
  assert.ok(caught, `expected an OAuth error ${expected.error}, but the call succeeded`)
  if (caught instanceof oauth.ResponseBodyError) {
    assert.equal(caught.error, expected.error, caught.error_description)
    assert.equal(caught.status, expected.status)
    return { body: caught.cause, response: caught.response }
  }
  if (caught instanceof oauth.WWWAuthenticateChallengeError) {
    const body = (await caught.response.json()) as Record<string, unknown>
    assert.equal(body.error, expected.error, String(body.error_description))
    assert.equal(caught.status, expected.status)
    return { body, response: caught.response, challenges: caught.cause }
  }
  throw caught
}
