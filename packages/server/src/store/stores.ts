import type { AppleCommandStore } from '../apple/apple-command-store.ts'
import type { AppleConfigStore } from '../apple/apple-config-store.ts'
import type { AppleEnrollmentStore } from '../apple/apple-enrollment-store.ts'
import type { AuthorizationCodeStore } from './authorization-code-store.ts'
import type { ClientStore } from './client-store.ts'
import type { DeviceStore } from './device-store.ts'
import type { GrantStore } from './grant-store.ts'
import type { IdentityStore } from './identity-store.ts'
import type { LocalAccountStore } from './local-account-store.ts'
import type { PasskeyCredentialStore } from './passkey-credential-store.ts'
import type { ProfileAttributeStore } from './profile-attribute-store.ts'
import type { ProfileRetentionStore } from './profile-retention-store.ts'
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
  profileAttributes: ProfileAttributeStore
  profileRetention: ProfileRetentionStore
  identities: IdentityStore
  localAccounts: LocalAccountStore
  passkeyCredentials: PasskeyCredentialStore
  authorizationCodes: AuthorizationCodeStore
  appleConfigs: AppleConfigStore
  appleEnrollments: AppleEnrollmentStore
  appleCommands: AppleCommandStore
}

/** The stores plus a unit of work: everything one request writes goes through one transaction. */
export interface Store extends Stores {
  /**
   * Runs `work` in one transaction. On PostgreSQL a transaction the database aborts for a
   * deadlock or a serialization failure runs again, so `work` must do nothing but through
   * `stores` (and computations it can repeat).
   */
  transaction<T>(work: (stores: Stores) => Promise<T>): Promise<T>
  /** Whether the database answers (for `/readyz`). */
  ping(): Promise<void>
  close(): Promise<void>
}
