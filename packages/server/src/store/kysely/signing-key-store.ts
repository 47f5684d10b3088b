import type { Selectable } from 'kysely'
import type { SigningKeyRecord, SigningKeyStore } from '../signing-key-store.ts'
import type { SigningKeysTable } from '../tables/signing-keys.ts'
import { affected, type Executor, optional } from './executor.ts'

export class KyselySigningKeyStore implements SigningKeyStore {
  readonly #db: Executor
  constructor(db: Executor) {
    this.#db = db
  }

  async listPublished(tenantId: string, now: number): Promise<SigningKeyRecord[]> {
    const rows = await this.#db
      .selectFrom('signing_keys')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where((eb) => eb.or([eb('status', '=', 'active'), eb('publish_until', '>', now)]))
      .orderBy('created_at', 'desc')
      .orderBy('kid')
      .execute()
    return rows.map(toRecord)
  }

  async insert(key: SigningKeyRecord): Promise<void> {
    await this.#db
      .insertInto('signing_keys')
      .values({
        kid: key.kid,
        tenant_id: key.tenantId,
        alg: key.alg,
        public_jwk: JSON.stringify(key.publicJWK),
        private_key: key.privateKey,
        status: key.status,
        created_at: key.createdAt,
        retired_at: key.retiredAt ?? null,
        publish_until: key.publishUntil ?? null,
      })
      .execute()
  }

  async retireActive(
    tenantId: string,
    options: { retiredAt: number; publishUntil: number },
  ): Promise<number> {
    const result = await this.#db
      .updateTable('signing_keys')
      .set({ status: 'retired', retired_at: options.retiredAt, publish_until: options.publishUntil })
      .where('tenant_id', '=', tenantId)
      .where('status', '=', 'active')
      .executeTakeFirst()
    return affected(result)
  }

  async deleteUnpublished(now: number): Promise<number> {
    const result = await this.#db
      .deleteFrom('signing_keys')
      .where('status', '=', 'retired')
      .where('publish_until', '<=', now)
      .executeTakeFirst()
    return affected(result)
  }
}

function toRecord(row: Selectable<SigningKeysTable>): SigningKeyRecord {
  return {
    kid: row.kid,
    tenantId: row.tenant_id,
    alg: row.alg,
    publicJWK: JSON.parse(row.public_jwk),
    privateKey: row.private_key,
    status: row.status,
    createdAt: row.created_at,
    retiredAt: optional(row.retired_at),
    publishUntil: optional(row.publish_until),
  }
}
