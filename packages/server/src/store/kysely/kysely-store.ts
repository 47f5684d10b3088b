import { setTimeout } from 'node:timers/promises'
import { type Kysely, sql } from 'kysely'
import { KyselyAppleCommandStore } from '../../apple/kysely/apple-command-store.ts'
import { KyselyAppleConfigStore } from '../../apple/kysely/apple-config-store.ts'
import { KyselyAppleEnrollmentStore } from '../../apple/kysely/apple-enrollment-store.ts'
import type { Database } from '../database.ts'
import type { Store, Stores } from '../stores.ts'
import { KyselyAuthorizationCodeStore } from './authorization-code-store.ts'
import { KyselyClientStore } from './client-store.ts'
import { KyselyDeviceStore } from './device-store.ts'
import type { Executor } from './executor.ts'
import { KyselyGrantStore } from './grant-store.ts'
import { GroupCommit } from './group-commit.ts'
import { KyselyIdentityStore } from './identity-store.ts'
import { KyselyLocalAccountStore } from './local-account-store.ts'
import { KyselyPasskeyCredentialStore } from './passkey-credential-store.ts'
import { KyselyProfileAttributeStore } from './profile-attribute-store.ts'
import { KyselyProfileRetentionStore } from './profile-retention-store.ts'
import { KyselyProfileStore } from './profile-store.ts'
import { KyselyRefreshTokenStore } from './refresh-token-store.ts'
import { KyselyResourceStore } from './resource-store.ts'
import { KyselySigningKeyStore } from './signing-key-store.ts'
import { KyselyTenantStore } from './tenant-store.ts'

function createStores(db: Executor): Stores {
  return {
    tenants: new KyselyTenantStore(db),
    signingKeys: new KyselySigningKeyStore(db),
    clients: new KyselyClientStore(db),
    resources: new KyselyResourceStore(db),
    profiles: new KyselyProfileStore(db),
    devices: new KyselyDeviceStore(db),
    grants: new KyselyGrantStore(db),
    refreshTokens: new KyselyRefreshTokenStore(db),
    profileAttributes: new KyselyProfileAttributeStore(db),
    profileRetention: new KyselyProfileRetentionStore(db),
    identities: new KyselyIdentityStore(db),
    localAccounts: new KyselyLocalAccountStore(db),
    passkeyCredentials: new KyselyPasskeyCredentialStore(db),
    authorizationCodes: new KyselyAuthorizationCodeStore(db),
    appleConfigs: new KyselyAppleConfigStore(db),
    appleEnrollments: new KyselyAppleEnrollmentStore(db),
    appleCommands: new KyselyAppleCommandStore(db),
  }
}

/** PostgreSQL's deadlock_detected and serialization_failure: the transaction left nothing behind. */
const conflictCodes = new Set(['40P01', '40001'])
const conflictAttempts = 4

/**
 * Runs a transaction again when PostgreSQL aborted it for a deadlock or a serialization failure,
 * after a short random pause, so two requests that happen to lock the same rows in a different
 * order (a refresh and the inactivity sweep, say) both complete instead of one failing.
 */
async function runAgainOnConflict<T>(transaction: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transaction()
    } catch (error) {
      const code = (error as { code?: unknown } | undefined)?.code
      if (attempt >= conflictAttempts || typeof code !== 'string' || !conflictCodes.has(code)) throw error
      await setTimeout(attempt * 10 * Math.random())
    }
  }
}

/**
 * The one store implementation, on SQLite and PostgreSQL alike. With `groupCommit` (SQLite),
 * concurrent units of work share transactions; see `GroupCommit`.
 */
export function createKyselyStore(db: Kysely<Database>, options?: { groupCommit?: boolean }): Store {
  const group = options?.groupCommit ? new GroupCommit(db) : undefined
  return {
    ...createStores(db),
    transaction: (work) =>
      group
        ? group.run((trx) => work(createStores(trx)))
        : runAgainOnConflict(() => db.transaction().execute((trx) => work(createStores(trx)))),
    ping: async () => {
      await sql`select 1`.execute(db)
    },
    close: () => db.destroy(),
  }
}
