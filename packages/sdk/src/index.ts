export type { AuthenticationMode } from '@onramp/protocol'
export type {
  BiometricOutcome,
  BiometricProvider,
  BiometricRegistration,
} from './adapters/biometric-provider.ts'
export type { Clock } from './adapters/clock.ts'
export type { FetchFunction } from './adapters/fetch.ts'
export { InProcessLock } from './adapters/in-process-lock.ts'
export type { DeviceKey, KeyStore } from './adapters/key-store.ts'
export type { Lock } from './adapters/lock.ts'
export { MemoryStorage } from './adapters/memory-storage.ts'
export { SoftwareKeyStore } from './adapters/software-key-store.ts'
export type { JsonObject, JsonValue, Storage } from './adapters/storage.ts'
export type { EnrollAnonymousOptions, OnrampClient } from './client.ts'
export { createOnrampClient } from './client.ts'
export { MasterController } from './core/master-controller.ts'
export type { EncryptedRequest, PayloadEncryptor } from './core/payload-encryption.ts'
export type { SdkEventType, SdkState } from './core/sdk-state.ts'
export { acceptedEvents, SdkEventTypes, SdkStates } from './core/sdk-state.ts'
export type { DPoPProofOptions } from './crypto/dpop-proof.ts'
export { accessTokenHash, calculateJKT, createDPoPProof } from './crypto/dpop-proof.ts'
export { MinimumPBKDF2Iterations } from './crypto/key-derivation.ts'
export type {
  ClearIamTokenCacheBehavior,
  ClearIamTokenCacheEvent,
  ClearIamTokenCacheStatus,
  CreateHttpCommonRequest,
  CreateHttpCommonRequestResultEvent,
  CreateHttpCommonRequestStatus,
  EnrollAnonymousUserEvent,
  EnrollAnonymousUserStatus,
  ExchangedToken,
  ExchangeIamTokenEvent,
  ExchangeIamTokenResultEvent,
  ExchangeIamTokenStatus,
  FailureStatus,
  GetSdkStateEvent,
  IdentityChangedEvent,
  LoginAction,
  LoginCallbackEvent,
  LoginEvent,
  LoginPrompt,
  LoginResultEvent,
  LoginStatus,
  OfflineLoginEvent,
  OfflineLoginResultEvent,
  OfflineLoginStatus,
  RestartEvent,
  ResultEvent,
  ResultOf,
  SdkEvent,
  SdkNotification,
  SdkNotifications,
  SdkNotificationType,
  SdkResults,
  SdkStateChangedEvent,
  SdkStateResultEvent,
  SdkStateStatus,
  SdkUser,
  StartEvent,
  StartResultEvent,
  StartStatus,
  Status,
  StatusResultEvent,
  TokenRefreshedEvent,
} from './events.ts'
export {
  ClearIamTokenCacheBehaviors,
  ClearIamTokenCacheStatuses,
  CreateHttpCommonRequestStatuses,
  EnrollAnonymousUserStatuses,
  ExchangeIamTokenStatuses,
  LoginActions,
  LoginPrompts,
  LoginStatuses,
  OfflineLoginStatuses,
  SdkStateStatuses,
  StartStatuses,
} from './events.ts'
export type { OnrampOptions } from './options.ts'
