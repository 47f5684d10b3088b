import type { ClientStore } from './client-store.ts'
import type { DeviceStore } from './device-store.ts'
import type { GrantStore } from './grant-store.ts'
import type { ProfileStore } from './profile-store.ts'
import type { RefreshTokenStore } from './refresh-token-store.ts'
import type { ResourceStore } from './resource-store.ts'
import type { SigningKeyStore } from './signing-key-store.ts'
import type { TenantStore } from './tenant-store.ts'

export interface Stores {
  tenants: TenantStore
  signingKeys: SigningKeyStore
  clients: ClientStore
  resources: ResourceStore
  profiles: ProfileStore
  devices: DeviceStore
  grants: GrantStore
  refreshTokens: RefreshTokenStore
}

/** The stores plus a unit of work: everything one request writes goes through one transaction. */
export interface Store extends Stores {
  transaction<T>(work: (stores: Stores) => Promise<T>): Promise<T>
  /** Whether the database answers (for `/readyz`). */
  ping(): Promise<void>
  close(): Promise<void>
}
