import type { ClientsTable } from './tables/clients.ts'
import type { DevicesTable } from './tables/devices.ts'
import type { GrantsTable } from './tables/grants.ts'
import type { ProfilesTable } from './tables/profiles.ts'
import type { RefreshTokensTable } from './tables/refresh-tokens.ts'
import type { ResourcesTable } from './tables/resources.ts'
import type { SigningKeysTable } from './tables/signing-keys.ts'
import type { TenantsTable } from './tables/tenants.ts'

export interface Database {
  tenants: TenantsTable
  signing_keys: SigningKeysTable
  clients: ClientsTable
  resources: ResourcesTable
  profiles: ProfilesTable
  devices: DevicesTable
  grants: GrantsTable
  refresh_tokens: RefreshTokensTable
}
