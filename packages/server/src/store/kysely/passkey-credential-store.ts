import type { Selectable } from 'kysely'
import type {
  PasskeyCredential,
  PasskeyCredentialStore,
  PasskeyDeviceType,
} from '../passkey-credential-store.ts'
import type { PasskeyCredentialsTable } from '../tables/passkey-credentials.ts'
import { affected, type Executor } from './executor.ts'

export class KyselyPasskeyCredentialStore implements PasskeyCredentialStore {
  readonly #db: Executor
  constructor(db: Executor) {
    this.#db = db
  }

  async get(tenantId: string, credentialId: string): Promise<PasskeyCredential | undefined> {
    const row = await this.#db
      .selectFrom('passkey_credentials')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('credential_id', '=', credentialId)
      .executeTakeFirst()
    return row && toCredential(row)
  }

  async createIfAbsent(credential: PasskeyCredential): Promise<boolean> {
    const inserted = await this.#db
      .insertInto('passkey_credentials')
      .values({
        tenant_id: credential.tenantId,
        credential_id: credential.credentialId,
        user_handle: credential.userHandle,
        public_key: credential.publicKey,
        counter: credential.counter,
        transports: JSON.stringify(credential.transports),
        created_at: credential.createdAt,
        last_used_at: credential.lastUsedAt ?? null,
        name: credential.name ?? null,
        aaguid: credential.aaguid ?? null,
        device_type: credential.deviceType ?? null,
      })
      .onConflict((conflict) => conflict.columns(['tenant_id', 'credential_id']).doNothing())
      .returning('credential_id')
      .executeTakeFirst()
    return inserted !== undefined
  }

  async recordUse(
    tenantId: string,
    credentialId: string,
    use: { counter: number; usedAt: number },
  ): Promise<void> {
    await this.#db
      .updateTable('passkey_credentials')
      .set({ counter: use.counter, last_used_at: use.usedAt })
      .where('tenant_id', '=', tenantId)
      .where('credential_id', '=', credentialId)
      .execute()
  }

  async rename(tenantId: string, credentialId: string, name: string | undefined): Promise<boolean> {
    const result = await this.#db
      .updateTable('passkey_credentials')
      .set({ name: name ?? null })
      .where('tenant_id', '=', tenantId)
      .where('credential_id', '=', credentialId)
      .executeTakeFirst()
    return affected(result) > 0
  }

  async listForUserHandles(tenantId: string, userHandles: readonly string[]): Promise<PasskeyCredential[]> {
    if (userHandles.length === 0) return []
    const rows = await this.#db
      .selectFrom('passkey_credentials')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('user_handle', 'in', userHandles)
      .orderBy('created_at')
      .orderBy('credential_id')
      .execute()
    return rows.map(toCredential)
  }

  async delete(tenantId: string, credentialId: string): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('passkey_credentials')
      .where('tenant_id', '=', tenantId)
      .where('credential_id', '=', credentialId)
      .executeTakeFirst()
    return affected(result) > 0
  }
}

function toCredential(row: Selectable<PasskeyCredentialsTable>): PasskeyCredential {
  return {
    tenantId: row.tenant_id,
    credentialId: row.credential_id,
    userHandle: row.user_handle,
    publicKey: row.public_key,
    counter: Number(row.counter),
    transports: JSON.parse(row.transports) as string[],
    createdAt: Number(row.created_at),
    lastUsedAt: row.last_used_at === null ? undefined : Number(row.last_used_at),
    ...(row.name !== null && { name: row.name }),
    ...(row.aaguid !== null && { aaguid: row.aaguid }),
    ...(row.device_type !== null && { deviceType: row.device_type as PasskeyDeviceType }),
  }
}
