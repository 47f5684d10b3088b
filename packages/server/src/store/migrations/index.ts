import type { Migration, MigrationProvider } from 'kysely/migration'
import * as m0001 from './0001-initial.ts'
import * as m0002 from './0002-refresh-token-ids.ts'
import * as m0003 from './0003-client-web-origins.ts'
import * as m0004 from './0004-profile-attributes.ts'
import * as m0005 from './0005-progressive-authentication.ts'
import * as m0006 from './0006-apple-enrollment.ts'
import * as m0007 from './0007-passkeys.ts'
import * as m0008 from './0008-resource-secrets.ts'
import * as m0009 from './0009-apple-identity-fingerprint.ts'
import * as m0010 from './0010-apple-push-certificate.ts'
import * as m0011 from './0011-apple-unlock-token.ts'
import * as m0012 from './0012-passkey-details.ts'
import * as m0013 from './0013-apple-profile-signing.ts'
import * as m0014 from './0014-apple-identity-renewal.ts'

/** Every migration, in order; a static list so nothing is discovered from the file system. */
const migrations: Record<string, Migration> = {
  '0001-initial': m0001,
  '0002-refresh-token-ids': m0002,
  '0003-client-web-origins': m0003,
  '0004-profile-attributes': m0004,
  '0005-progressive-authentication': m0005,
  '0006-apple-enrollment': m0006,
  '0007-passkeys': m0007,
  '0008-resource-secrets': m0008,
  '0009-apple-identity-fingerprint': m0009,
  '0010-apple-push-certificate': m0010,
  '0011-apple-unlock-token': m0011,
  '0012-passkey-details': m0012,
  '0013-apple-profile-signing': m0013,
  '0014-apple-identity-renewal': m0014,
}

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
}
