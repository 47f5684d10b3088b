import type { AuthenticationMode } from '@onramp/protocol'
import type { SdkEventType, SdkState } from './core/sdk-state.ts'

// Statuses. Every result carries one; each result's union lists only those it can meet, so a
// `switch` over it is exhaustive. Expected failures are statuses, never exceptions.

export const StartStatuses = [
  'Success',
  /** Started; a newer version of the app exists. */
  'UpdateAvailable',
  /** This version is below the app's minimum: the SDK stays `Uninitialised`. */
  'UpdateNecessary',
  'InvalidState',
  'InvalidInput',
  'StorageError',
  'InternalError',
] as const

export const EnrollAnonymousUserStatuses = [
  'Success',
  'InvalidState',
  'InvalidInput',
  'BiometricUnavailable',
  'BiometricDenied',
  'NetworkError',
  'Timeout',
  'RateLimited',
  'ServerError',
  'ConfigurationError',
  'StorageError',
  'InternalError',
] as const

export const OfflineLoginStatuses = [
  'Success',
  'InvalidState',
  'InvalidInput',
  'UnknownUser',
  'WrongPassword',
  'LockedOut',
  'BiometricUnavailable',
  'BiometricDenied',
  'SessionExpired',
  'ConfigurationError',
  'StorageError',
  'InternalError',
] as const

export const ExchangeIamTokenStatuses = [
  'Success',
  'InvalidState',
  'InvalidInput',
  'AccessDenied',
  'SessionExpired',
  'NetworkError',
  'Timeout',
  'RateLimited',
  'ServerError',
  'ConfigurationError',
  'StorageError',
  'InternalError',
] as const

export const CreateHttpCommonRequestStatuses = [
  'Success',
  'InvalidState',
  'InvalidInput',
  'AccessDenied',
  'SessionExpired',
  'NetworkError',
  'Timeout',
  'RateLimited',
  'ServerError',
  'ConfigurationError',
  'EncryptionError',
  'StorageError',
  'InternalError',
] as const

export const ClearIamTokenCacheStatuses = [
  'Success',
  'InvalidState',
  'InvalidInput',
  'StorageError',
  'InternalError',
] as const

export const LoginStatuses = [
  'Success',
  /** `Login` only: open `authorizationUrl` in a browser, then send `LoginCallback`. */
  'RedirectRequired',
  'InvalidState',
  'InvalidInput',
  /** The person cancelled or the server refused the sign-in or its code. */
  'AccessDenied',
  'SessionExpired',
  'NetworkError',
  'Timeout',
  'RateLimited',
  'ServerError',
  'ConfigurationError',
  'StorageError',
  'InternalError',
] as const

export const SdkStateStatuses = ['Success', 'InvalidState', 'StorageError', 'InternalError'] as const

export type StartStatus = (typeof StartStatuses)[number]
export type EnrollAnonymousUserStatus = (typeof EnrollAnonymousUserStatuses)[number]
export type OfflineLoginStatus = (typeof OfflineLoginStatuses)[number]
export type ExchangeIamTokenStatus = (typeof ExchangeIamTokenStatuses)[number]
export type CreateHttpCommonRequestStatus = (typeof CreateHttpCommonRequestStatuses)[number]
export type ClearIamTokenCacheStatus = (typeof ClearIamTokenCacheStatuses)[number]
export type LoginStatus = (typeof LoginStatuses)[number]
export type SdkStateStatus = (typeof SdkStateStatuses)[number]

/** Every status any result can carry. */
export type Status =
  | StartStatus
  | EnrollAnonymousUserStatus
  | OfflineLoginStatus
  | ExchangeIamTokenStatus
  | CreateHttpCommonRequestStatus
  | ClearIamTokenCacheStatus
  | LoginStatus
  | SdkStateStatus

/** The statuses that report a failure. */
export type FailureStatus = Exclude<
  Status,
  'Success' | 'UpdateAvailable' | 'UpdateNecessary' | 'RedirectRequired'
>

// Events the app sends.

export interface StartEvent {
  type: 'Start'
  /** The app's name, for display and logs; `/app-config` is asked about the client id. */
  appName: string
  /** The app's version, checked against the client's app policy (`1.2.3`, `1.2.3-beta.1`). */
  appVersion: string
  locale?: string
  /** `ios`, `android`, `web`, …: selects a platform's own app policy. */
  platform?: string
}

export interface EnrollAnonymousUserEvent {
  type: 'EnrollAnonymousUser'
  tenantId: string
  clientId: string
  authenticationMode: AuthenticationMode
  /** Mode `password` only: the password that will protect the device's secrets. */
  password?: string
}

export interface OfflineLoginEvent {
  type: 'OfflineLogin'
  /** The enrolled user to log in (`users[].userIdentifier`); the only one when left out. */
  userIdentifier?: string
  /** Mode `password` only. */
  password?: string
}

export interface ExchangeIamTokenEvent {
  type: 'ExchangeIamToken'
  /** A resource registered at the tenant. */
  audience: string
  /** Exchange again although a cached token is still fresh. */
  forceUpdate?: boolean
}

export interface CreateHttpCommonRequest {
  type: 'CreateHttpCommonRequest'
  /** Absolute `http:` or `https:` URL of the backend. */
  url: string
  method: string
  headers?: Record<string, string>
  body?: string | Uint8Array
  /**
   * The backend's audience: its token comes from token exchange. The issuer itself as audience
   * (for its profile attribute API, say) takes the IAM token, and only for URLs under the issuer.
   */
  audience: string
  /** Encrypt the body to the backend's key and have the response encrypted to a key of this request. */
  encrypt?: boolean
  /** Milliseconds for the whole call, token exchange included. */
  timeout?: number
}

/**
 * - `ExchangedTokens`: forget the exchanged (per-audience) tokens; the session stays.
 * - `Logout`: also forget the IAM tokens and lock the enrollment again (`LoginRequired`).
 * - `DeleteEnrollment`: revoke the refresh token at the server when unlocked (best effort), then
 *   erase the enrollment, its secrets and the device key (`ActivationRequired`).
 */
export const ClearIamTokenCacheBehaviors = ['ExchangedTokens', 'Logout', 'DeleteEnrollment'] as const

export type ClearIamTokenCacheBehavior = (typeof ClearIamTokenCacheBehaviors)[number]

export interface ClearIamTokenCacheEvent {
  type: 'ClearIamTokenCache'
  behavior: ClearIamTokenCacheBehavior
}

/** What the hosted login shows first (`prompt`): `create` opens the sign-up form. */
export const LoginPrompts = ['login', 'create', 'select_account', 'consent', 'none'] as const

export type LoginPrompt = (typeof LoginPrompts)[number]

/** What the person is asked to do at the hosted login after signing in (`onramp_action`). */
export const LoginActions = ['add_passkey'] as const

export type LoginAction = (typeof LoginActions)[number]

/**
 * Progressive sign-in, step 1: pushes an authorization request with a DPoP proof of the device key
 * (and, from an anonymous enrollment, its token; from a person's, the same person signs in again),
 * keeps the PKCE verifier and `state` in storage, and answers `RedirectRequired` with the
 * `authorizationUrl` the app opens in a browser.
 */
export interface LoginEvent {
  type: 'Login'
  /** One of the client's registered redirect URIs, where the browser comes back with the code. */
  redirectUri: string
  /** The scope of the person's tokens; `options.scope`, else the client's scopes, by default. */
  scope?: string
  prompt?: LoginPrompt
  /** Fills in the email field of the hosted login. */
  loginHint?: string
  /** `add_passkey`: register another passkey to the account right after the sign-in. */
  action?: LoginAction
}

/**
 * Progressive sign-in, step 2: the URL the browser was sent back to (`redirectUri?code&state&iss`
 * or `?error&state&iss`). Checks `state` and `iss`, redeems the code with the PKCE verifier and a
 * DPoP proof of the same device key, and stores the person's refresh token.
 */
export interface LoginCallbackEvent {
  type: 'LoginCallback'
  callbackUrl: string
}

/** Forgets everything in memory and reads storage again: an enrolled app is `LoginRequired` after it. */
export interface RestartEvent {
  type: 'Restart'
}

export interface GetSdkStateEvent {
  type: 'GetSdkState'
}

export type SdkEvent =
  | StartEvent
  | EnrollAnonymousUserEvent
  | OfflineLoginEvent
  | ExchangeIamTokenEvent
  | CreateHttpCommonRequest
  | ClearIamTokenCacheEvent
  | LoginEvent
  | LoginCallbackEvent
  | RestartEvent
  | GetSdkStateEvent

// Results the controller answers with.

/** An enrolled user of this SDK instance. Nothing here is secret. */
export interface SdkUser {
  /** The subject of its tokens (`sub`): the anonymous profile, or the person's after a sign-in. */
  userIdentifier: string
  tenantId: string
  clientId: string
  deviceId: string
  authenticationMode: AuthenticationMode
  /** False once a person signed in (`Login`): the tokens are theirs (`acr` ≥ 1). */
  isAnonymous: boolean
  /** Milliseconds since the epoch. */
  enrolledAt: number
}

interface ResultBase<S extends Status> {
  status: S
  /** The state after the event. */
  sdkState: SdkState
  /** What went wrong, for logs; never secrets. */
  detail?: string
}

export interface StartResultEvent extends ResultBase<StartStatus> {
  type: 'StartResult'
  users: SdkUser[]
  /** Whether `/app-config` answered; a start offline skips the check. */
  isVersionChecked: boolean
  minVersion?: string
  latestVersion?: string
}

export interface StatusResultEvent<S extends Status = Status> extends ResultBase<S> {
  type: 'StatusResult'
}

export interface OfflineLoginResultEvent extends ResultBase<OfflineLoginStatus> {
  type: 'OfflineLoginResult'
  /**
   * With `Success`: the login did not reach the server, either because the cached access token is
   * still valid or because the server could not be reached (the token is refreshed when next needed).
   */
  isOffline?: boolean
  /** With `WrongPassword`: attempts left before the lockout erases the enrollment. */
  remainingAttempts?: number
}

/** An access token for one audience, from token exchange. */
export interface ExchangedToken {
  accessToken: string
  /** `DPoP`: present it with a proof of the device key (CreateHttpCommonRequest does). */
  tokenType: 'DPoP' | 'Bearer'
  audience: string
  scope?: string
  /** Milliseconds since the epoch. */
  expiresAt: number
}

export interface ExchangeIamTokenResultEvent extends ResultBase<ExchangeIamTokenStatus> {
  type: 'ExchangeIamTokenResult'
  token?: ExchangedToken
}

export interface CreateHttpCommonRequestResultEvent extends ResultBase<CreateHttpCommonRequestStatus> {
  type: 'CreateHttpCommonRequestResult'
  /** With `Success`: the backend's status, whatever it is. */
  httpStatus?: number
  /** Lower-case names; with encryption, `content-type` is the decrypted body's. */
  headers?: Record<string, string>
  /** The body as text (decrypted when it came encrypted). */
  body?: string
}

export interface LoginResultEvent extends ResultBase<LoginStatus> {
  type: 'LoginResult'
  /** With `RedirectRequired`: `{issuer}/authorize?client_id=…&request_uri=…`, good for 90 seconds. */
  authorizationUrl?: string
  /** With `Success`: the enrolled user, now the person. */
  user?: SdkUser
  /**
   * With `Success`: the anonymous profile became the person's (same `sub`, attributes kept); false
   * when the identity already belonged to a profile, whose tokens these now are.
   */
  isProfileKept?: boolean
}

export interface SdkStateResultEvent extends ResultBase<SdkStateStatus> {
  type: 'SdkStateResult'
  users: SdkUser[]
}

/** The result of each event type. */
export interface SdkResults {
  Start: StartResultEvent
  EnrollAnonymousUser: StatusResultEvent<EnrollAnonymousUserStatus>
  OfflineLogin: OfflineLoginResultEvent
  ExchangeIamToken: ExchangeIamTokenResultEvent
  CreateHttpCommonRequest: CreateHttpCommonRequestResultEvent
  ClearIamTokenCache: StatusResultEvent<ClearIamTokenCacheStatus>
  Login: LoginResultEvent
  LoginCallback: LoginResultEvent
  Restart: SdkStateResultEvent
  GetSdkState: SdkStateResultEvent
}

export type ResultOf<E extends SdkEvent> = SdkResults[E['type']]

export type ResultEvent = SdkResults[SdkEventType]

// Events the controller sends on its own.

export interface SdkStateChangedEvent {
  type: 'SdkStateChanged'
  sdkState: SdkState
  previousState: SdkState
  /** The event whose handling changed the state. */
  trigger: SdkEventType
}

/** The IAM access token was refreshed (and the rotated refresh token saved). */
export interface TokenRefreshedEvent {
  type: 'TokenRefreshed'
  /** Milliseconds since the epoch. */
  expiresAt: number
}

/**
 * A person signed in (`LoginCallback`): the IAM tokens are now theirs, the anonymous tokens and
 * every exchanged token were dropped.
 */
export interface IdentityChangedEvent {
  type: 'IdentityChanged'
  userIdentifier: string
  previousUserIdentifier: string
  isAnonymous: boolean
  /** See `LoginResultEvent.isProfileKept`. */
  isProfileKept: boolean
}

export interface SdkNotifications {
  SdkStateChanged: SdkStateChangedEvent
  TokenRefreshed: TokenRefreshedEvent
  IdentityChanged: IdentityChangedEvent
}

export type SdkNotificationType = keyof SdkNotifications

export type SdkNotification = SdkNotifications[SdkNotificationType]
