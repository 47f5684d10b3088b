import type { BiometricProvider } from './adapters/biometric-provider.ts'
import { type Clock, systemClock } from './adapters/clock.ts'
import type { FetchFunction } from './adapters/fetch.ts'
import { InProcessLock } from './adapters/in-process-lock.ts'
import type { KeyStore } from './adapters/key-store.ts'
import type { Lock } from './adapters/lock.ts'
import { SoftwareKeyStore } from './adapters/software-key-store.ts'
import type { Storage } from './adapters/storage.ts'
import { MinimumPBKDF2Iterations } from './crypto/key-derivation.ts'

export interface OnrampOptions {
  /** Base URL of the Onramp server; a tenant's issuer is `{serverUrl}/t/{tenantId}`. */
  serverUrl: string
  /** Where the SDK keeps its enrollment; instances on one namespace refresh under its `lock`. */
  storage: Storage
  /** Tenant for `/app-config` before anything is enrolled, and the facade's default for enrollment. */
  tenantId?: string
  /** Client for `/app-config` before anything is enrolled, and the facade's default for enrollment. */
  clientId?: string
  /** `app_name` for `/app-config` when the app registered a name other than its client id. */
  appConfigName?: string
  /** `ios`, `android`, `web`, `node`…: the app policy's platform, unless `StartEvent.platform` names one. */
  platform?: string
  /** Scope requested at enrollment; the client's scopes by default. */
  scope?: string
  /** Where the device key lives; software keys sealed with the enrollment's secrets by default. */
  keyStore?: KeyStore
  /** Needed for authentication mode `biometric`. */
  biometricProvider?: BiometricProvider
  /** `globalThis.fetch` by default. */
  fetch?: FetchFunction
  clock?: Clock
  /** Wrong passwords in a row before the enrollment is erased (`LockedOut`); 5 by default. */
  maxPasswordAttempts?: number
  /** PBKDF2 iterations for new passwords; 600,000 by default and at least. */
  pbkdf2Iterations?: number
  /** Seconds before expiry at which tokens are renewed; 30 by default. */
  expirySkew?: number
  /** Milliseconds for each call to the identity server, and for backend calls without their own `timeout`; 30,000 by default. */
  timeout?: number
}

export interface ResolvedOptions {
  serverUrl: string
  storage: Storage
  /** The storage's lock, or one for this controller alone. */
  lock: Lock
  tenantId: string | undefined
  clientId: string | undefined
  appConfigName: string | undefined
  platform: string | undefined
  scope: string | undefined
  keyStore: KeyStore
  biometricProvider: BiometricProvider | undefined
  fetch: FetchFunction
  clock: Clock
  maxPasswordAttempts: number
  pbkdf2Iterations: number
  /** Milliseconds. */
  expirySkew: number
  timeout: number
}

/** The options with their defaults; a setup mistake throws at once, before any event. */
export function resolveOptions(options: OnrampOptions): ResolvedOptions {
  let serverUrl: URL
  try {
    serverUrl = new URL(options.serverUrl)
  } catch {
    throw new TypeError('serverUrl must be an absolute URL')
  }
  if (serverUrl.protocol !== 'https:' && serverUrl.protocol !== 'http:')
    throw new TypeError('serverUrl must be http: or https:')
  if (!options.storage) throw new TypeError('storage is required')
  const fetch = options.fetch ?? globalThis.fetch?.bind(globalThis)
  if (typeof fetch !== 'function') throw new TypeError('no fetch: pass options.fetch')
  const resolved: ResolvedOptions = {
    serverUrl: serverUrl.href.replace(/\/+$/, ''),
    storage: options.storage,
    lock: options.storage.lock ?? new InProcessLock(),
    tenantId: options.tenantId,
    clientId: options.clientId,
    appConfigName: options.appConfigName,
    platform: options.platform,
    scope: options.scope,
    keyStore: options.keyStore ?? new SoftwareKeyStore(),
    biometricProvider: options.biometricProvider,
    fetch,
    clock: options.clock ?? systemClock,
    maxPasswordAttempts: options.maxPasswordAttempts ?? 5,
    pbkdf2Iterations: options.pbkdf2Iterations ?? MinimumPBKDF2Iterations,
    expirySkew: (options.expirySkew ?? 30) * 1000,
    timeout: options.timeout ?? 30_000,
  }
  if (!Number.isInteger(resolved.maxPasswordAttempts) || resolved.maxPasswordAttempts < 1)
    throw new RangeError('maxPasswordAttempts must be a whole number of at least 1')
  if (!Number.isInteger(resolved.pbkdf2Iterations) || resolved.pbkdf2Iterations < MinimumPBKDF2Iterations)
    throw new RangeError(`pbkdf2Iterations must be at least ${MinimumPBKDF2Iterations}`)
  if (!(resolved.expirySkew >= 0)) throw new RangeError('expirySkew must be zero or more seconds')
  if (!(resolved.timeout > 0)) throw new RangeError('timeout must be a positive number of milliseconds')
  return resolved
}
