import { createHmac } from 'node:crypto'
import { SecretBox } from '../crypto/secret-box.ts'
import { DPoPNonces } from '../dpop/dpop-nonces.ts'
import { DPoPVerifier } from '../dpop/dpop-verifier.ts'
import type { EphemeralStore } from '../ephemeral/ephemeral-store.ts'
import type { Store } from '../store/stores.ts'
import { ClientManager } from './client-manager.ts'
import { type Clock, systemClock } from './clock.ts'
import { DeviceManager } from './device-manager.ts'
import { KeyManager } from './key-manager.ts'
import { RateLimiter } from './rate-limiter.ts'
import { RefreshTokenManager } from './refresh-token-manager.ts'
import { ResourceManager } from './resource-manager.ts'
import { TenantManager } from './tenant-manager.ts'
import { TokenManager } from './token-manager.ts'

export interface ServiceOptions {
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
  dpop: DPoPVerifier
  rateLimiter: RateLimiter
  enrollmentLimits: ServiceOptions['enrollmentLimits']
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
  return {
    store,
    ephemeral: options.ephemeral,
    clock,
    publicUrl: options.publicUrl,
    keys,
    tenants: new TenantManager({ store, keys, clock }),
    clients: new ClientManager({ store, clock }),
    resources: new ResourceManager({ store, clock }),
    tokens: new TokenManager({ keys, clock, publicUrl: options.publicUrl }),
    refreshTokens,
    devices: new DeviceManager({ store, clock, refreshTokens }),
    dpop: new DPoPVerifier({
      replayCache: options.ephemeral,
      nonces: new DPoPNonces(derive('dpop-nonces')),
      clock,
      maxAge: options.dpopProofMaxAge,
    }),
    rateLimiter: new RateLimiter(options.ephemeral),
    enrollmentLimits: options.enrollmentLimits,
  }
}
