import type { PasskeyCredential, PasskeyCredentialStore } from '../passkey-credential-store.ts'
import type { Executor } from './executor.ts'

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
    return (
      row && {
        tenantId: row.tenant_id,
        credentialId: row.credential_id,
        userHandle: row.user_handle,
        publicKey: row.public_key,
        counter: Number(row.counter),
        transports: JSON.parse(row.transports) as string[],
        createdAt: Number(row.created_at),
        lastUsedAt: row.last_used_at === null ? undefined : Number(row.last_used_at),
      }
    )
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
}
