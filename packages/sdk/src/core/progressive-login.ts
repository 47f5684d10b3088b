import { base64url } from 'jose'
import type { JsonObject } from '../adapters/storage.ts'
import { randomId } from '../crypto/random.ts'
import { LoginActions, type LoginCallbackEvent, type LoginEvent, LoginPrompts } from '../events.ts'
import type { ResolvedOptions } from '../options.ts'
import { withEnrollmentLock } from './enrollment-lock.ts'
import { isAnonymous } from './enrollment-record.ts'
import { SdkFailure } from './sdk-failure.ts'
import { TokenEndpoint } from './token-endpoint.ts'
import type { TokenManager } from './token-manager.ts'

/** The storage key of the sign-in under way: its PKCE verifier and `state` survive a reload. */
export const PendingLoginKey = 'login'

/** How long a pushed sign-in waits for its callback (the hosted login's interaction lives 30 minutes). */
const pendingLifetime = 60 * 60 * 1000

/** A sign-in between `Login` and `LoginCallback`, as stored. */
interface PendingLogin {
  issuer: string
  deviceId: string
  redirectUri: string
  state: string
  codeVerifier: string
  /** Milliseconds since the epoch. */
  createdAt: number
}

export interface LoginContext {
  options: ResolvedOptions
  tokens: TokenManager
  endpoint: TokenEndpoint
}

/** The token and PAR endpoints of the session's enrollment, with the controller's DPoP nonces. */
export function loginEndpoint(
  tokens: TokenManager,
  options: ResolvedOptions,
  nonces: ConstructorParameters<typeof TokenEndpoint>[0]['nonces'],
): TokenEndpoint {
  return new TokenEndpoint({
    issuer: tokens.record.issuer,
    clientId: tokens.record.clientId,
    fetch: options.fetch,
    nonces,
    clock: options.clock,
    timeout: options.timeout,
  })
}

/** Checks the event before anything goes to the server. */
export function checkLoginEvent(event: LoginEvent): void {
  if (!isRedirectUri(event.redirectUri))
    throw new SdkFailure('InvalidInput', 'redirectUri must be an absolute URL without a fragment')
  if (event.scope !== undefined && (typeof event.scope !== 'string' || event.scope.trim() === ''))
    throw new SdkFailure('InvalidInput', 'scope must be a non-empty string')
  if (event.prompt !== undefined && !LoginPrompts.includes(event.prompt))
    throw new SdkFailure('InvalidInput', `prompt must be one of ${LoginPrompts.join(', ')}`)
  if (event.action !== undefined && !LoginActions.includes(event.action))
    throw new SdkFailure('InvalidInput', `action must be one of ${LoginActions.join(', ')}`)
  if (event.loginHint !== undefined && (typeof event.loginHint !== 'string' || event.loginHint === ''))
    throw new SdkFailure('InvalidInput', 'loginHint must be a non-empty string')
}

/**
 * Step 1: stores the PKCE verifier and `state` under the lock (replacing any sign-in under way),
 * then pushes the authorization request with a proof of the device key (the code is bound to
 * it) and, from an anonymous enrollment, its access token; the `/authorize` URL the browser opens.
 */
export async function startLogin(
  event: LoginEvent,
  anonymousToken: string | undefined,
  context: LoginContext,
): Promise<string> {
  const { options, tokens, endpoint } = context
  const record = tokens.record
  const pending: PendingLogin = {
    issuer: record.issuer,
    deviceId: record.deviceId,
    redirectUri: event.redirectUri,
    state: randomId(32),
    codeVerifier: randomId(32),
    createdAt: options.clock.now(),
  }
  await withEnrollmentLock(options.lock, () => setPending(options, pending))
  const scope = event.scope ?? options.scope
  const pushed = await endpoint.pushAuthorizationRequest(
    {
      response_type: 'code',
      redirect_uri: event.redirectUri,
      code_challenge: await codeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
      state: pending.state,
      ...(anonymousToken !== undefined && { anonymous_token: anonymousToken }),
      ...(scope !== undefined && { scope }),
      ...(event.prompt !== undefined && { prompt: event.prompt }),
      ...(event.loginHint !== undefined && { login_hint: event.loginHint }),
      ...(event.action !== undefined && { onramp_action: event.action }),
    },
    tokens.deviceKey,
  )
  const url = new URL(`${record.issuer}/authorize`)
  url.searchParams.set('client_id', record.clientId)
  url.searchParams.set('request_uri', pushed.requestUri)
  return url.toString()
}

/**
 * Step 2: checks the callback against the sign-in under way (redirect URI, `state`, RFC 9207
 * `iss`), takes it out of storage (a code is redeemed once), and redeems the code with its
 * verifier. A callback whose `state` does not match leaves the sign-in under way alone: it may be
 * forged. A person's enrollment accepts only that person's tokens (re-authentication).
 */
export async function completeLogin(
  event: LoginCallbackEvent,
  context: LoginContext,
): Promise<{ previousUserIdentifier: string }> {
  const { options, tokens } = context
  let callback: URL
  try {
    callback = new URL(event.callbackUrl)
  } catch {
    throw new SdkFailure('InvalidInput', 'callbackUrl must be an absolute URL')
  }
  const parameters = callback.searchParams
  const pending = await withEnrollmentLock(options.lock, async () => {
    const pending = await getPending(options)
    const record = tokens.record
    if (!pending || pending.issuer !== record.issuer || pending.deviceId !== record.deviceId)
      throw new SdkFailure('InvalidState', 'no sign-in is under way')
    if (options.clock.now() - pending.createdAt > pendingLifetime) {
      await deletePending(options)
      throw new SdkFailure('InvalidState', 'the sign-in under way has expired; send Login again')
    }
    if (withoutQuery(callback) !== withoutQuery(new URL(pending.redirectUri)))
      throw new SdkFailure('InvalidInput', 'the callback is not at the redirect URI of the sign-in')
    if (parameters.get('state') !== pending.state)
      throw new SdkFailure('InvalidInput', 'the callback state does not match the sign-in under way')
    if (parameters.get('iss') !== pending.issuer)
      throw new SdkFailure('InvalidInput', 'the callback comes from another issuer (RFC 9207)')
    await deletePending(options)
    return pending
  })
  const error = parameters.get('error')
  if (error !== null) {
    const description = parameters.get('error_description')
    const detail = `${error}${description ? `: ${description}` : ''}`
    throw new SdkFailure(error === 'access_denied' ? 'AccessDenied' : 'ConfigurationError', detail, {
      oauthError: error,
    })
  }
  const code = parameters.get('code')
  if (!code) throw new SdkFailure('InvalidInput', 'the callback carries neither a code nor an error')
  try {
    const record = tokens.record
    return await tokens.redeemCode(
      { code, redirect_uri: pending.redirectUri, code_verifier: pending.codeVerifier },
      { expectedSubject: isAnonymous(record) ? undefined : record.userIdentifier },
    )
  } catch (error) {
    // A refused code (expired, used, wrong verifier) ends this sign-in, not the session.
    if (error instanceof SdkFailure && error.oauthError === 'invalid_grant')
      throw new SdkFailure('AccessDenied', error.message, { oauthError: 'invalid_grant' })
    throw error
  }
}

/** Forgets a sign-in under way (the enrollment is erased); best effort. */
export async function forgetPendingLogin(options: ResolvedOptions): Promise<void> {
  await options.storage.delete(PendingLoginKey).catch(() => {})
}

async function codeChallenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))
  return base64url.encode(new Uint8Array(digest))
}

function isRedirectUri(value: unknown): value is string {
  if (typeof value !== 'string') return false
  try {
    const url = new URL(value)
    return url.hash === '' && !value.includes('#')
  } catch {
    return false
  }
}

function withoutQuery(url: URL): string {
  return `${url.origin}${url.pathname}`
}

async function setPending(options: ResolvedOptions, pending: PendingLogin): Promise<void> {
  try {
    await options.storage.set(PendingLoginKey, { ...pending } satisfies JsonObject)
  } catch (error) {
    throw new SdkFailure('StorageError', 'the sign-in could not be saved', { cause: error })
  }
}

async function getPending(options: ResolvedOptions): Promise<PendingLogin | undefined> {
  let value: unknown
  try {
    value = await options.storage.get(PendingLoginKey)
  } catch (error) {
    throw new SdkFailure('StorageError', 'the sign-in under way could not be read', { cause: error })
  }
  const pending = value as Partial<PendingLogin> | undefined | null
  const strings = [
    pending?.issuer,
    pending?.deviceId,
    pending?.redirectUri,
    pending?.state,
    pending?.codeVerifier,
  ]
  if (!strings.every((s) => typeof s === 'string') || typeof pending?.createdAt !== 'number') return undefined
  return pending as PendingLogin
}

async function deletePending(options: ResolvedOptions): Promise<void> {
  try {
    await options.storage.delete(PendingLoginKey)
  } catch (error) {
    throw new SdkFailure('StorageError', 'the sign-in under way could not be removed', { cause: error })
  }
}
