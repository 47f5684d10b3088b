import {
  ClearIamTokenCacheBehaviors,
  type ClearIamTokenCacheEvent,
  ClearIamTokenCacheStatuses,
  type CreateHttpCommonRequest,
  type CreateHttpCommonRequestResultEvent,
  CreateHttpCommonRequestStatuses,
  type EnrollAnonymousUserEvent,
  EnrollAnonymousUserStatuses,
  type ExchangeIamTokenEvent,
  type ExchangeIamTokenResultEvent,
  ExchangeIamTokenStatuses,
  type LoginCallbackEvent,
  type LoginEvent,
  type LoginResultEvent,
  LoginStatuses,
  type OfflineLoginEvent,
  type OfflineLoginResultEvent,
  OfflineLoginStatuses,
  type ResultOf,
  type SdkEvent,
  type SdkNotification,
  type SdkNotifications,
  type SdkNotificationType,
  type SdkStateResultEvent,
  SdkStateStatuses,
  type SdkUser,
  type StartEvent,
  type StartResultEvent,
  StartStatuses,
  type Status,
  type StatusResultEvent,
} from '../events.ts'
import { type OnrampOptions, type ResolvedOptions, resolveOptions } from '../options.ts'
import { checkAppVersion } from './app-config.ts'
import { DPoPNonces } from './dpop-nonces.ts'
import { enrollAnonymousUser, eraseEnrollment } from './enrollment.ts'
import { type EnrollmentRecord, EnrollmentStore, isAnonymous, userOf } from './enrollment-record.ts'
import { ExchangeCache } from './exchange-cache.ts'
import { sendCommonRequest } from './http-client.ts'
import { offlineLogin, WrongPassword } from './offline-login.ts'
import { JWEPayloadEncryptor, type PayloadEncryptor } from './payload-encryption.ts'
import { checkLoginEvent, completeLogin, loginEndpoint, startLogin } from './progressive-login.ts'
import { SdkFailure } from './sdk-failure.ts'
import { type SdkEventType, SdkEventTypes, type SdkState, SdkStateMachine } from './sdk-state.ts'
import type { TokenManager } from './token-manager.ts'

/** An unlocked enrollment: its IAM tokens and the tokens exchanged for audiences. */
interface Session {
  tokens: TokenManager
  exchanges: ExchangeCache
}

type Listener<T extends SdkNotificationType> = (event: SdkNotifications[T]) => void

/** Each event's statuses: a failure outside its list is reported as `InternalError`. */
const statusesOf: { readonly [T in SdkEventType]: readonly Status[] } = {
  Start: StartStatuses,
  EnrollAnonymousUser: EnrollAnonymousUserStatuses,
  OfflineLogin: OfflineLoginStatuses,
  ExchangeIamToken: ExchangeIamTokenStatuses,
  CreateHttpCommonRequest: CreateHttpCommonRequestStatuses,
  ClearIamTokenCache: ClearIamTokenCacheStatuses,
  Login: LoginStatuses,
  LoginCallback: LoginStatuses,
  Restart: SdkStateStatuses,
  GetSdkState: SdkStateStatuses,
}

/** Events that change the enrollment or the state run one at a time, in the order sent. */
const serializedEvents: ReadonlySet<SdkEventType> = new Set([
  'Start',
  'EnrollAnonymousUser',
  'OfflineLogin',
  'ClearIamTokenCache',
  'Login',
  'LoginCallback',
  'Restart',
])

/**
 * The SDK's event API: `send(event)` answers every event with its result event, whose `status`
 * says how it went (expected failures never throw), and `on(type, listener)` reports what
 * happens on its own (state changes, token refreshes). Token exchanges and backend calls run
 * concurrently; everything that changes the enrollment or the state runs one at a time.
 */
export class MasterController {
  readonly #options: ResolvedOptions
  readonly #store: EnrollmentStore
  readonly #nonces = new DPoPNonces()
  readonly #encryptor: PayloadEncryptor
  readonly #machine: SdkStateMachine
  readonly #listeners = new Map<SdkNotificationType, Set<Listener<SdkNotificationType>>>()
  #queue: Promise<unknown> = Promise.resolve()
  #record: EnrollmentRecord | undefined
  #session: Session | undefined

  constructor(options: OnrampOptions) {
    this.#options = resolveOptions(options)
    this.#store = new EnrollmentStore(this.#options.storage)
    this.#encryptor = new JWEPayloadEncryptor({ fetch: this.#options.fetch, clock: this.#options.clock })
    this.#machine = new SdkStateMachine(({ from, to, trigger }) =>
      this.#emit({ type: 'SdkStateChanged', sdkState: to, previousState: from, trigger }),
    )
  }

  /** Handles one event; the promise always resolves with the event's result. */
  send<E extends SdkEvent>(event: E): Promise<ResultOf<E>> {
    if (!SdkEventTypes.includes(event?.type))
      return Promise.reject(new TypeError(`unknown event type: ${String(event?.type)}`))
    const handle = (): Promise<ResultOf<E>> => this.#handle(event)
    if (!serializedEvents.has(event.type)) return handle()
    const result = this.#queue.then(handle, handle)
    this.#queue = result.catch(() => {})
    return result
  }

  /** Calls `listener` for each unsolicited event of `type`; returns what unsubscribes it. */
  on<T extends SdkNotificationType>(type: T, listener: Listener<T>): () => void {
    let listeners = this.#listeners.get(type)
    if (!listeners) {
      listeners = new Set()
      this.#listeners.set(type, listeners)
    }
    const stored = listener as Listener<SdkNotificationType>
    listeners.add(stored)
    return () => {
      listeners.delete(stored)
    }
  }

  async #handle<E extends SdkEvent>(event: E): Promise<ResultOf<E>> {
    if (!this.#machine.accepts(event.type)) {
      const failure = new SdkFailure(
        'InvalidState',
        `${event.type} is not accepted in ${this.#machine.state}`,
      )
      return this.#failure(event.type, failure) as ResultOf<E>
    }
    try {
      return (await this.#dispatch(event)) as ResultOf<E>
    } catch (error) {
      return this.#failure(event.type, error) as ResultOf<E>
    }
  }

  #dispatch(event: SdkEvent): Promise<unknown> {
    switch (event.type) {
      case 'Start':
        return this.#start(event)
      case 'EnrollAnonymousUser':
        return this.#enroll(event)
      case 'OfflineLogin':
        return this.#offlineLogin(event)
      case 'ExchangeIamToken':
        return this.#exchange(event)
      case 'CreateHttpCommonRequest':
        return this.#request(event)
      case 'ClearIamTokenCache':
        return this.#clear(event)
      case 'Login':
        return this.#login(event)
      case 'LoginCallback':
        return this.#loginCallback(event)
      case 'Restart':
        return this.#restart()
      case 'GetSdkState':
        return Promise.resolve(this.#stateResult('Success'))
    }
  }

  async #start(event: StartEvent): Promise<StartResultEvent> {
    if (!isNonEmptyString(event.appName) || !isNonEmptyString(event.appVersion))
      throw new SdkFailure('InvalidInput', 'appName and appVersion are required')
    const record = await this.#store.load()
    this.#record = record
    const options = this.#options
    const tenantId = record?.tenantId ?? options.tenantId
    const appName = options.appConfigName ?? record?.clientId ?? options.clientId
    const platform = event.platform ?? options.platform
    const check =
      tenantId === undefined || appName === undefined
        ? undefined
        : await checkAppVersion({
            issuer: record?.issuer ?? `${options.serverUrl}/t/${tenantId}`,
            query: {
              app_name: appName,
              app_version: event.appVersion,
              ...(platform !== undefined && { platform }),
            },
            fetch: options.fetch,
            timeout: options.timeout,
          })
    const isNecessary = check?.status === 'update_necessary'
    this.#machine.transition(
      'Start',
      isNecessary ? 'Uninitialised' : record ? 'LoginRequired' : 'ActivationRequired',
    )
    return {
      type: 'StartResult',
      status: isNecessary
        ? 'UpdateNecessary'
        : check?.status === 'update_available'
          ? 'UpdateAvailable'
          : 'Success',
      sdkState: this.#machine.state,
      users: this.#users(),
      isVersionChecked: check !== undefined,
      ...(check?.minVersion !== undefined && { minVersion: check.minVersion }),
      ...(check?.latestVersion !== undefined && { latestVersion: check.latestVersion }),
    }
  }

  async #enroll(event: EnrollAnonymousUserEvent): Promise<StatusResultEvent> {
    const tokens = await enrollAnonymousUser(event, this.#context())
    this.#beginSession(tokens, 'EnrollAnonymousUser')
    return { type: 'StatusResult', status: 'Success', sdkState: this.#machine.state }
  }

  async #offlineLogin(event: OfflineLoginEvent): Promise<OfflineLoginResultEvent> {
    const record = await this.#store.load()
    this.#record = record
    if (!record) {
      this.#machine.transition('OfflineLogin', 'ActivationRequired')
      throw new SdkFailure('SessionExpired', 'the enrollment is gone')
    }
    let login: Awaited<ReturnType<typeof offlineLogin>>
    try {
      login = await offlineLogin(record, event, this.#context())
    } catch (error) {
      if (
        error instanceof SdkFailure &&
        (error.status === 'LockedOut' || error.status === 'SessionExpired')
      ) {
        if (error.status === 'SessionExpired') await eraseEnrollment(record, this.#context())
        this.#record = undefined
        this.#machine.transition('OfflineLogin', 'ActivationRequired')
      }
      throw error
    }
    this.#beginSession(login.tokens, 'OfflineLogin')
    return {
      type: 'OfflineLoginResult',
      status: 'Success',
      sdkState: this.#machine.state,
      isOffline: login.isOffline,
    }
  }

  async #exchange(event: ExchangeIamTokenEvent): Promise<ExchangeIamTokenResultEvent> {
    if (!isNonEmptyString(event.audience)) throw new SdkFailure('InvalidInput', 'audience is required')
    const session = this.#requireSession()
    const token = await this.#whileSessionLasts(
      session,
      'ExchangeIamToken',
      session.exchanges.get(event.audience, { forceUpdate: event.forceUpdate === true }),
    )
    return { type: 'ExchangeIamTokenResult', status: 'Success', sdkState: this.#machine.state, token }
  }

  async #request(event: CreateHttpCommonRequest): Promise<CreateHttpCommonRequestResultEvent> {
    const session = this.#requireSession()
    const issuer = session.tokens.record.issuer
    if (event.audience === issuer && !isIssuerURL(event.url, issuer)) {
      throw new SdkFailure('InvalidInput', 'the issuer’s own token goes only to URLs under the issuer')
    }
    const response = await this.#whileSessionLasts(
      session,
      'CreateHttpCommonRequest',
      sendCommonRequest(event, {
        fetch: this.#options.fetch,
        clock: this.#options.clock,
        nonces: this.#nonces,
        deviceKey: session.tokens.deviceKey,
        // The issuer's own APIs take the IAM token itself; every other audience an exchanged one.
        token: (audience, options) =>
          audience === issuer
            ? session.tokens.issuerToken(options)
            : session.exchanges.get(audience, options),
        encryptor: this.#encryptor,
        defaultTimeout: this.#options.timeout,
      }),
    )
    return {
      type: 'CreateHttpCommonRequestResult',
      status: 'Success',
      sdkState: this.#machine.state,
      ...response,
    }
  }

  async #clear(event: ClearIamTokenCacheEvent): Promise<StatusResultEvent> {
    if (!ClearIamTokenCacheBehaviors.includes(event.behavior))
      throw new SdkFailure('InvalidInput', 'behavior must be ExchangedTokens, Logout or DeleteEnrollment')
    const state = this.#machine.state
    const session = this.#session
    switch (event.behavior) {
      case 'ExchangedTokens':
        session?.exchanges.clear()
        break
      case 'Logout':
        await this.#endSession()
        this.#machine.transition('ClearIamTokenCache', state === 'LoggedIn' ? 'LoginRequired' : state)
        break
      case 'DeleteEnrollment': {
        // Revocation is a courtesy to the server; the enrollment goes whether it answers or not.
        await session?.tokens.revoke().catch(() => {})
        await this.#endSession().catch(() => {})
        const record = this.#record ?? (await this.#store.load())
        if (record) await eraseEnrollment(record, this.#context())
        this.#record = undefined
        this.#machine.transition('ClearIamTokenCache', 'ActivationRequired')
        break
      }
    }
    return { type: 'StatusResult', status: 'Success', sdkState: this.#machine.state }
  }

  async #login(event: LoginEvent): Promise<LoginResultEvent> {
    const session = this.#requireSession()
    checkLoginEvent(event)
    // From an anonymous enrollment the sign-in carries its token, to attach the profile; a
    // person signing in again is known by the device key alone.
    const anonymousToken = isAnonymous(session.tokens.record)
      ? await this.#whileSessionLasts(session, 'Login', session.tokens.accessToken())
      : undefined
    const authorizationUrl = await startLogin(event, anonymousToken, this.#loginContext(session))
    return {
      type: 'LoginResult',
      status: 'RedirectRequired',
      sdkState: this.#machine.state,
      authorizationUrl,
    }
  }

  async #loginCallback(event: LoginCallbackEvent): Promise<LoginResultEvent> {
    if (typeof event.callbackUrl !== 'string') throw new SdkFailure('InvalidInput', 'callbackUrl is required')
    const session = this.#requireSession()
    const wasAnonymous = isAnonymous(session.tokens.record)
    const { previousUserIdentifier } = await this.#whileSessionLasts(
      session,
      'LoginCallback',
      completeLogin(event, this.#loginContext(session)),
    )
    // The exchanged tokens are the anonymous identity's: the next exchange uses the person's token.
    session.exchanges.clear()
    const record = session.tokens.record
    this.#record = record
    const user = userOf(record)
    const isProfileKept = user.userIdentifier === previousUserIdentifier
    // A person signing in again is the same identity: nothing changed to announce.
    if (wasAnonymous)
      this.#emit({
        type: 'IdentityChanged',
        userIdentifier: user.userIdentifier,
        previousUserIdentifier,
        isAnonymous: user.isAnonymous,
        isProfileKept,
      })
    return { type: 'LoginResult', status: 'Success', sdkState: this.#machine.state, user, isProfileKept }
  }

  #loginContext(session: Session): Parameters<typeof startLogin>[2] {
    return {
      options: this.#options,
      tokens: session.tokens,
      endpoint: loginEndpoint(session.tokens, this.#options, this.#nonces),
    }
  }

  async #restart(): Promise<SdkStateResultEvent> {
    try {
      await this.#endSession()
      this.#record = await this.#store.load()
    } catch (error) {
      this.#record = undefined
      this.#machine.transition('Restart', 'Uninitialised')
      throw error
    }
    this.#machine.transition('Restart', this.#record ? 'LoginRequired' : 'ActivationRequired')
    return this.#stateResult('Success')
  }

  #beginSession(tokens: TokenManager, trigger: SdkEventType): void {
    this.#record = tokens.record
    this.#session = {
      tokens,
      exchanges: new ExchangeCache({
        clock: this.#options.clock,
        expirySkew: this.#options.expirySkew,
        exchange: (audience) => tokens.exchange(audience),
      }),
    }
    this.#machine.transition(trigger, 'LoggedIn')
  }

  /** Forgets the session, saving what it has not saved yet. */
  async #endSession(): Promise<void> {
    const session = this.#session
    this.#session = undefined
    session?.exchanges.clear()
    await session?.tokens.close()
  }

  #requireSession(): Session {
    if (!this.#session) throw new SdkFailure('InvalidState', 'no session')
    return this.#session
  }

  /**
   * `work` of a session. When the server ends the session (its refresh token is refused), the
   * enrollment is erased and the SDK needs activation again, unless the session ended meanwhile.
   */
  async #whileSessionLasts<T>(session: Session, trigger: SdkEventType, work: Promise<T>): Promise<T> {
    try {
      return await work
    } catch (error) {
      if (error instanceof SdkFailure && error.status === 'SessionExpired') {
        await this.#serialize(async () => {
          if (this.#session !== session) return
          this.#session = undefined
          session.exchanges.clear()
          await eraseEnrollment(session.tokens.record, this.#context()).catch(() => {})
          this.#record = undefined
          this.#machine.transition(trigger, 'ActivationRequired')
        })
      }
      throw error
    }
  }

  #serialize(work: () => Promise<void>): Promise<void> {
    const done = this.#queue.then(work, work)
    this.#queue = done.catch(() => {})
    return done
  }

  #context(): {
    options: ResolvedOptions
    store: EnrollmentStore
    nonces: DPoPNonces
    onRefreshed: (expiresAt: number) => void
  } {
    return {
      options: this.#options,
      store: this.#store,
      nonces: this.#nonces,
      onRefreshed: (expiresAt) => this.#emit({ type: 'TokenRefreshed', expiresAt }),
    }
  }

  #users(): SdkUser[] {
    return this.#record ? [userOf(this.#record)] : []
  }

  #stateResult(status: SdkStateResultEvent['status'], detail?: string): SdkStateResultEvent {
    return {
      type: 'SdkStateResult',
      status,
      sdkState: this.#machine.state,
      users: this.#users(),
      ...(detail !== undefined && { detail }),
    }
  }

  /** The result of a failed event: its status if the event's list has it, else `InternalError`. */
  #failure(type: SdkEventType, error: unknown): unknown {
    const failure =
      error instanceof SdkFailure
        ? error
        : new SdkFailure(
            'InternalError',
            `unexpected ${(error as Error)?.name ?? 'error'}: ${(error as Error)?.message}`,
          )
    const status = statusesOf[type].includes(failure.status) ? failure.status : 'InternalError'
    const base = { status, sdkState: this.#machine.state as SdkState, detail: failure.message }
    switch (type) {
      case 'Start':
        return { type: 'StartResult', ...base, users: this.#users(), isVersionChecked: false }
      case 'EnrollAnonymousUser':
      case 'ClearIamTokenCache':
        return { type: 'StatusResult', ...base }
      case 'OfflineLogin':
        return {
          type: 'OfflineLoginResult',
          ...base,
          ...(failure instanceof WrongPassword && { remainingAttempts: failure.remainingAttempts }),
        }
      case 'ExchangeIamToken':
        return { type: 'ExchangeIamTokenResult', ...base }
      case 'Login':
      case 'LoginCallback':
        return { type: 'LoginResult', ...base }
      case 'CreateHttpCommonRequest':
        return { type: 'CreateHttpCommonRequestResult', ...base }
      case 'Restart':
      case 'GetSdkState':
        return { type: 'SdkStateResult', ...base, users: this.#users() }
    }
  }

  #emit(notification: SdkNotification): void {
    for (const listener of this.#listeners.get(notification.type) ?? []) {
      try {
        listener(notification)
      } catch {
        // A listener's failure must not change the outcome of the event that caused the notification.
      }
    }
  }
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0
}

/** Whether `url` is the issuer or under it (same origin, path below the issuer's). */
function isIssuerURL(url: string, issuer: string): boolean {
  if (!URL.canParse(url)) return false
  const target = new URL(url)
  const base = new URL(issuer)
  return (
    target.origin === base.origin && `${target.pathname}/`.startsWith(`${base.pathname.replace(/\/$/, '')}/`)
  )
}
