import { createHmac } from 'node:crypto'
import { type AppleServices, createAppleServices } from '../apple/apple-services.ts'
import type { PushNotifier } from '../apple/push-notifier.ts'
import { PushedAuthorizationRequests } from '../authorization/pushed-authorization-requests.ts'
import { SecretBox } from '../crypto/secret-box.ts'
import { DPoPNonces } from '../dpop/dpop-nonces.ts'
import { DPoPVerifier } from '../dpop/dpop-verifier.ts'
import type { EphemeralStore } from '../ephemeral/ephemeral-store.ts'
import { InteractionManager } from '../login/interaction-manager.ts'
import { PasskeyMethod } from '../login/passkey-method.ts'
import { PasswordMethod } from '../login/password-method.ts'
import { UpstreamOIDCMethod } from '../login/upstream-oidc-method.ts'
import type { Store } from '../store/stores.ts'
import { AccountManager } from './account-manager.ts'
import { AuthorizationCodeManager } from './authorization-code-manager.ts'
import { ClientManager } from './client-manager.ts'
import { type Clock, systemClock } from './clock.ts'
import { DeviceManager } from './device-manager.ts'
import { KeyManager } from './key-manager.ts'
import { LocalAccountManager } from './local-account-manager.ts'
import { LoginThrottle } from './login-throttle.ts'
import { attributeLimitsOf, defaultAttributeLimits, ProfileManager } from './profile-manager.ts'
import { ProfileMerger } from './profile-merge.ts'
import { RateLimiter } from './rate-limiter.ts'
import { RefreshTokenManager } from './refresh-token-manager.ts'
import { ResourceManager } from './resource-manager.ts'
import { TenantManager } from './tenant-manager.ts'
import { TokenManager } from './token-manager.ts'

/** What only code can give the services: the edges to outside systems, for tests to stand in for. */
export interface ServiceEdges {
  /** Apple push delivery; by default, APNs itself. */
  push?: PushNotifier
}

export interface ServiceOptions extends ServiceEdges {
  store: Store
  ephemeral: EphemeralStore
  masterKey: Buffer
  publicUrl: string
  dpopProofMaxAge: number
  enrollmentLimits: { perIp: number; perTenant: number; windowSeconds: number } | undefined
  clock?: Clock
}

/** Every domain service, wired once; HTTP routes and the CLI both use these. */
export interface Services {
  store: Store
  ephemeral: EphemeralStore
  clock: Clock
  publicUrl: string
  keys: KeyManager
  tenants: TenantManager
  clients: ClientManager
  resources: ResourceManager
  tokens: TokenManager
  refreshTokens: RefreshTokenManager
  devices: DeviceManager
  accounts: AccountManager
  profiles: ProfileManager
  dpop: DPoPVerifier
  rateLimiter: RateLimiter
  enrollmentLimits: ServiceOptions['enrollmentLimits']
  localAccounts: LocalAccountManager
  authorizationCodes: AuthorizationCodeManager
  pushedRequests: PushedAuthorizationRequests
  /** The hosted login's interactions and their state machine. */
  login: InteractionManager
  /** Sign-in through the tenants' upstream OpenID Connect providers. */
  upstreamLogin: UpstreamOIDCMethod
  profileMerger: ProfileMerger
  /** Apple account-driven enrollment. */
  apple: AppleServices
}

export function createServices(options: ServiceOptions): Services {
  const { store } = options
  const clock = options.clock ?? systemClock
  // Independent keys for independent purposes, all from the one master key.
  const derive = (purpose: string): Buffer => createHmac('sha256', options.masterKey).update(purpose).digest()
  const keys = new KeyManager({
    store: store.signingKeys,
    secretBox: new SecretBox(derive('signing-keys')),
    clock,
  })
  const refreshTokens = new RefreshTokenManager({ store, clock })
  const tokens = new TokenManager({ keys, clock, publicUrl: options.publicUrl })
  const upstreamSecrets = new SecretBox(derive('upstream-client-secrets'))
  const tenants = new TenantManager({ store, keys, clock, upstreamSecrets })
  const attributeLimitsFor = async (tenantId: string) => {
    const tenant = await tenants.find(tenantId)
    return tenant ? attributeLimitsOf(tenant.settings) : defaultAttributeLimits
  }
  const profiles = new ProfileManager({ store, clock, limitsOf: attributeLimitsFor })
  const rateLimiter = new RateLimiter(options.ephemeral)
  const localAccounts = new LocalAccountManager({
    store,
    clock,
    throttle: new LoginThrottle(options.ephemeral),
    rateLimiter,
  })
  const upstreamLogin = new UpstreamOIDCMethod({
    secretBox: upstreamSecrets,
    clock,
    issuer: (tenantId) => tokens.issuer(tenantId),
  })
  const authorizationCodes = new AuthorizationCodeManager({
    store,
    clock,
    refreshTokens,
  })
  return {
    store,
    ephemeral: options.ephemeral,
    clock,
    publicUrl: options.publicUrl,
    keys,
    tenants,
    clients: new ClientManager({ store, clock }),
    resources: new ResourceManager({ store, clock }),
    tokens,
    refreshTokens,
    devices: new DeviceManager({ store, clock, refreshTokens }),
    accounts: new AccountManager({ store }),
    profiles,
    dpop: new DPoPVerifier({
      replayCache: options.ephemeral,
      nonces: new DPoPNonces(derive('dpop-nonces')),
      clock,
      maxAge: options.dpopProofMaxAge,
    }),
    rateLimiter,
    enrollmentLimits: options.enrollmentLimits,
    localAccounts,
    authorizationCodes,
    pushedRequests: new PushedAuthorizationRequests(options.ephemeral, rateLimiter),
    login: new InteractionManager({
      store: options.ephemeral,
      identities: store.identities,
      rateLimiter,
      clock,
      methods: [
        new PasswordMethod({ accounts: localAccounts, clock }),
        new PasskeyMethod({ credentials: store.passkeyCredentials, clock, publicUrl: options.publicUrl }),
        upstreamLogin,
      ],
      codes: authorizationCodes,
      issuer: (tenantId) => tokens.issuer(tenantId),
    }),
    upstreamLogin,
    profileMerger: new ProfileMerger({ store, clock, limitsOf: attributeLimitsFor }),
    apple: createAppleServices({
      store,
      ephemeral: options.ephemeral,
      clock,
      tokens,
      secretBox: new SecretBox(derive('apple-device-ca')),
      codes: authorizationCodes,
      ...(options.push && { push: options.push }),
    }),
  }
}
