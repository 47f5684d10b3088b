import type { AppleCommandsTable } from '../apple/tables/apple-commands.ts'
import type { AppleConfigsTable } from '../apple/tables/apple-configs.ts'
import type { AppleEnrollmentsTable } from '../apple/tables/apple-enrollments.ts'
import type { AppleManagedDomainsTable } from '../apple/tables/apple-managed-domains.ts'
import type { AuthorizationCodesTable } from './tables/authorization-codes.ts'
import type { ClientsTable } from './tables/clients.ts'
import type { DevicesTable } from './tables/devices.ts'
import type { GrantsTable } from './tables/grants.ts'
import type { IdentitiesTable } from './tables/identities.ts'
import type { LocalAccountsTable } from './tables/local-accounts.ts'
import type { PasskeyCredentialsTable } from './tables/passkey-credentials.ts'
import type { ProfileAttributesTable } from './tables/profile-attributes.ts'
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
  profile_attributes: ProfileAttributesTable
  identities: IdentitiesTable
  local_accounts: LocalAccountsTable
  passkey_credentials: PasskeyCredentialsTable
  authorization_codes: AuthorizationCodesTable
  apple_configs: AppleConfigsTable
  apple_managed_domains: AppleManagedDomainsTable
  apple_enrollments: AppleEnrollmentsTable
  apple_commands: AppleCommandsTable
}
