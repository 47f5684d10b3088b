import type { AuthenticationMode } from '@onramp/protocol'
import { MasterController } from './core/master-controller.ts'
import type {
  ClearIamTokenCacheBehavior,
  ClearIamTokenCacheStatus,
  CreateHttpCommonRequest,
  CreateHttpCommonRequestResultEvent,
  EnrollAnonymousUserStatus,
  ExchangeIamTokenResultEvent,
  LoginEvent,
  LoginResultEvent,
  OfflineLoginResultEvent,
  SdkNotifications,
  SdkNotificationType,
  SdkStateResultEvent,
  StartEvent,
  StartResultEvent,
  StatusResultEvent,
} from './events.ts'
import type { OnrampOptions } from './options.ts'

export interface EnrollAnonymousOptions {
  authenticationMode: AuthenticationMode
  password?: string
  /** `options.tenantId` by default. */
  tenantId?: string
  /** `options.clientId` by default. */
  clientId?: string
}

/**
 * The promise facade: one method per event, over the same master controller. Results are the
 * controller's result events, so failures are statuses here too.
 */
export interface OnrampClient {
  readonly controller: MasterController
  start(options: Omit<StartEvent, 'type'>): Promise<StartResultEvent>
  enrollAnonymous(options: EnrollAnonymousOptions): Promise<StatusResultEvent<EnrollAnonymousUserStatus>>
  offlineLogin(options?: { userIdentifier?: string; password?: string }): Promise<OfflineLoginResultEvent>
  exchangeToken(audience: string, options?: { forceUpdate?: boolean }): Promise<ExchangeIamTokenResultEvent>
  request(request: Omit<CreateHttpCommonRequest, 'type'>): Promise<CreateHttpCommonRequestResultEvent>
  /** Progressive sign-in, step 1: `RedirectRequired` with the `authorizationUrl` to open in a browser. */
  login(options: Omit<LoginEvent, 'type'>): Promise<LoginResultEvent>
  /** Step 2: the URL the browser came back to (`redirectUri?code=…&state=…&iss=…`). */
  completeLogin(callbackUrl: string): Promise<LoginResultEvent>
  clearTokenCache(behavior: ClearIamTokenCacheBehavior): Promise<StatusResultEvent<ClearIamTokenCacheStatus>>
  restart(): Promise<SdkStateResultEvent>
  getState(): Promise<SdkStateResultEvent>
  on<T extends SdkNotificationType>(type: T, listener: (event: SdkNotifications[T]) => void): () => void
}

export function createOnrampClient(options: OnrampOptions): OnrampClient {
  const controller = new MasterController(options)
  return {
    controller,
    start: (start) => controller.send({ type: 'Start', ...start }),
    enrollAnonymous: (enroll) =>
      controller.send({
        type: 'EnrollAnonymousUser',
        tenantId: enroll.tenantId ?? options.tenantId ?? '',
        clientId: enroll.clientId ?? options.clientId ?? '',
        authenticationMode: enroll.authenticationMode,
        ...(enroll.password !== undefined && { password: enroll.password }),
      }),
    offlineLogin: (login) => controller.send({ type: 'OfflineLogin', ...login }),
    exchangeToken: (audience, exchange) =>
      controller.send({ type: 'ExchangeIamToken', audience, ...exchange }),
    request: (request) => controller.send({ type: 'CreateHttpCommonRequest', ...request }),
    login: (login) => controller.send({ type: 'Login', ...login }),
    completeLogin: (callbackUrl) => controller.send({ type: 'LoginCallback', callbackUrl }),
    clearTokenCache: (behavior) => controller.send({ type: 'ClearIamTokenCache', behavior }),
    restart: () => controller.send({ type: 'Restart' }),
    getState: () => controller.send({ type: 'GetSdkState' }),
    on: (type, listener) => controller.on(type, listener),
  }
}
