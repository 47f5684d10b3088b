import type { RefreshTokenRecord, RefreshTokenStore } from '../refresh-token-store.ts'
import { affected, type Executor, insertRow, optional } from './executor.ts'

export class KyselyRefreshTokenStore implements RefreshTokenStore {
  readonly #db: Executor
  constructor(db: Executor) {
    this.#db = db
  }

  async get(tokenId: string): Promise<RefreshTokenRecord | undefined> {
    const row = await this.#db
      .selectFrom('refresh_tokens')
      .selectAll()
      .where('token_id', '=', tokenId)
      .executeTakeFirst()
    return (
      row && {
        tokenId: row.token_id,
        tokenHash: row.token_hash,
        grantId: row.grant_id,
        tenantId: row.tenant_id,
        createdAt: row.created_at,
        expiresAt: row.expires_at,
        usedAt: optional(row.used_at),
      }
    )
  }

  async create(record: RefreshTokenRecord): Promise<void> {
    await insertRow(this.#db, 'refresh_tokens', {
      token_id: record.tokenId,
      token_hash: record.tokenHash,
      grant_id: record.grantId,
      tenant_id: record.tenantId,
      created_at: record.createdAt,
      expires_at: record.expiresAt,
      used_at: record.usedAt ?? null,
    })
  }

  async markUsed(tokenId: string, at: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('refresh_tokens')
      .set({ used_at: at })
      .where('token_id', '=', tokenId)
      .where('used_at', 'is', null)
      .executeTakeFirst()
    return affected(result) === 1
  }

  async deleteExpired(now: number, limit: number): Promise<number> {
    const expired = this.#db
      .selectFrom('refresh_tokens')
      .select('token_id')
      .where('expires_at', '<', now)
      .limit(limit)
    const result = await this.#db
      .deleteFrom('refresh_tokens')
      .where('token_id', 'in', expired)
      .executeTakeFirst()
    return affected(result)
  }
}
