import type { LocalAccount, LocalAccountStore } from '../local-account-store.ts'
import type { Executor } from './executor.ts'

export class KyselyLocalAccountStore implements LocalAccountStore {
  readonly #db: Executor
  constructor(db: Executor) {
    this.#db = db
  }

  async get(tenantId: string, email: string): Promise<LocalAccount | undefined> {
    const row = await this.#db
      .selectFrom('local_accounts')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('email', '=', email)
      .executeTakeFirst()
    return (
      row && {
        tenantId: row.tenant_id,
        email: row.email,
        passwordHash: row.password_hash,
        createdAt: row.created_at,
        updatedAt: row.updated_at,
      }
    )
  }

  async createIfAbsent(account: LocalAccount): Promise<boolean> {
    const inserted = await this.#db
      .insertInto('local_accounts')
      .values({
        tenant_id: account.tenantId,
        email: account.email,
        password_hash: account.passwordHash,
        created_at: account.createdAt,
        updated_at: account.updatedAt,
      })
      .onConflict((conflict) => conflict.columns(['tenant_id', 'email']).doNothing())
      .returning('email')
      .executeTakeFirst()
    return inserted !== undefined
  }
}
