import type { Selectable } from 'kysely'
import type { AuthorizationCodeRecord, AuthorizationCodeStore } from '../authorization-code-store.ts'
import type { AuthorizationCodesTable } from '../tables/authorization-codes.ts'
import { affected, type Executor, optional } from './executor.ts'

export class KyselyAuthorizationCodeStore implements AuthorizationCodeStore {
  readonly #db: Executor
  constructor(db: Executor) {
    this.#db = db
  }

  async get(codeId: string): Promise<AuthorizationCodeRecord | undefined> {
    const row = await this.#db
      .selectFrom('authorization_codes')
      .selectAll()
      .where('code_id', '=', codeId)
      .executeTakeFirst()
    return row && toRecord(row)
  }

  async create(record: AuthorizationCodeRecord): Promise<void> {
    await this.#db
      .insertInto('authorization_codes')
      .values({
        code_id: record.codeId,
        code_hash: record.codeHash,
        tenant_id: record.tenantId,
        client_id: record.clientId,
        redirect_uri: record.redirectUri,
        scope: record.scope,
        code_challenge: record.codeChallenge ?? null,
        code_challenge_method: record.codeChallengeMethod ?? null,
        dpop_jkt: record.dpopJkt ?? null,
        provider: record.provider,
        subject: record.subject,
        acr: record.acr,
        amr: JSON.stringify(record.amr),
        auth_time: record.authTime,
        anonymous_profile_id: record.anonymousProfileId ?? null,
        anonymous_grant_id: record.anonymousGrantId ?? null,
        created_at: record.createdAt,
        expires_at: record.expiresAt,
        used_at: record.usedAt ?? null,
        grant_id: record.grantId ?? null,
      })
      .execute()
  }

  async markUsed(codeId: string, at: number, grantId: string): Promise<boolean> {
    const result = await this.#db
      .updateTable('authorization_codes')
      .set({ used_at: at, grant_id: grantId })
      .where('code_id', '=', codeId)
      .where('used_at', 'is', null)
      .executeTakeFirst()
    return affected(result) === 1
  }

  async deleteExpired(now: number, limit: number): Promise<number> {
    const expired = this.#db
      .selectFrom('authorization_codes')
      .select('code_id')
      .where('expires_at', '<', now)
      .limit(limit)
    const result = await this.#db
      .deleteFrom('authorization_codes')
      .where('code_id', 'in', expired)
      .executeTakeFirst()
    return affected(result)
  }
}

function toRecord(row: Selectable<AuthorizationCodesTable>): AuthorizationCodeRecord {
  return {
    codeId: row.code_id,
    codeHash: row.code_hash,
    tenantId: row.tenant_id,
    clientId: row.client_id,
    redirectUri: row.redirect_uri,
    scope: row.scope,
    codeChallenge: optional(row.code_challenge),
    codeChallengeMethod: row.code_challenge_method === 'S256' ? 'S256' : undefined,
    dpopJkt: optional(row.dpop_jkt),
    provider: row.provider,
    subject: row.subject,
    acr: row.acr,
    amr: JSON.parse(row.amr),
    authTime: row.auth_time,
    anonymousProfileId: optional(row.anonymous_profile_id),
    anonymousGrantId: optional(row.anonymous_grant_id),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    usedAt: optional(row.used_at),
    grantId: optional(row.grant_id),
  }
}
