import { hashSecret, randomToken, secretMatchesHash, timeOrderedId } from '../crypto/secrets.ts'
import type { Grant } from '../store/grant-store.ts'
import type { RefreshTokenRecord } from '../store/refresh-token-store.ts'
import type { Store, Stores } from '../store/stores.ts'
import type { Tenant } from '../store/tenant-store.ts'
import type { Clock } from './clock.ts'

export type RefreshFailure = 'unknown' | 'expired' | 'reused' | 'revoked' | 'wrong_client' | 'wrong_key'

export class RefreshRejected extends Error {
  readonly reason: RefreshFailure
  /** With `reused`: the family to revoke. */
  readonly grantId: string | undefined
  constructor(reason: RefreshFailure, message: string, grantId?: string) {
    super(message)
    this.name = 'RefreshRejected'
    this.reason = reason
    this.grantId = grantId
  }
}

/** `{id}.{secret}`: the id finds the row, the secret is checked against its hash. */
const tokenFormat = /^([0-9a-v]{26})\.([A-Za-z0-9_-]{43})$/

/**
 * Opaque refresh tokens, stored only as hashes and rotated on every use. Presenting a rotated
 * token again revokes its whole family (RFC 9700 §4.14.2): either the client or an attacker holds
 * a stolen copy, and we cannot tell which.
 */
export class RefreshTokenManager {
  readonly #store: Store
  readonly #clock: Clock

  constructor(options: { store: Store; clock: Clock }) {
    this.#store = options.store
    this.#clock = options.clock
  }

  /** Issues a refresh token of the grant, in the caller's transaction. */
  async issue(stores: Pick<Stores, 'refreshTokens'>, tenant: Tenant, grant: Grant): Promise<string> {
    const tokenId = timeOrderedId()
    const secret = randomToken()
    const now = this.#clock.now()
    await stores.refreshTokens.create({
      tokenId,
      tokenHash: hashSecret(secret),
      grantId: grant.id,
      tenantId: tenant.id,
      createdAt: now,
      expiresAt: Math.min(now + tenant.settings.refreshTokenIdleTtl, grant.expiresAt),
      usedAt: undefined,
    })
    return `${tokenId}.${secret}`
  }

  /**
   * Rotates a refresh token: checks it, marks it used and, in the same transaction, lets the
   * caller issue what replaces it. Reuse revokes the family after that transaction has rolled
   * back, so the revocation stands although the request fails.
   */
  async rotate<T>(
    tenant: Tenant,
    token: string,
    expect: { clientId: string; jkt: string | undefined },
    issue: (stores: Stores, grant: Grant, refreshToken: string) => Promise<T>,
  ): Promise<T> {
    try {
      return await this.#store.transaction(async (stores) => {
        const grant = await this.#check(stores, tenant, token, expect)
        return issue(stores, grant, await this.issue(stores, tenant, grant))
      })
    } catch (error) {
      if (error instanceof RefreshRejected && error.reason === 'reused' && error.grantId) {
        await this.#store.grants.revoke(tenant.id, error.grantId, 'refresh_token_reuse', this.#clock.now())
      }
      throw error
    }
  }

  async #check(
    stores: Stores,
    tenant: Tenant,
    token: string,
    expect: { clientId: string; jkt: string | undefined },
  ): Promise<Grant> {
    const now = this.#clock.now()
    const record = await lookup(stores, tenant, token)
    if (!record) throw new RefreshRejected('unknown', 'refresh token is invalid')
    const grant = await stores.grants.get(tenant.id, record.grantId)
    if (!grant) throw new RefreshRejected('unknown', 'refresh token is invalid')
    if (grant.clientId !== expect.clientId)
      throw new RefreshRejected('wrong_client', 'refresh token was issued to another client')
    if (grant.jkt !== undefined && grant.jkt !== expect.jkt) {
      throw new RefreshRejected('wrong_key', 'refresh token is bound to another DPoP key')
    }
    if (grant.revokedAt !== undefined) throw new RefreshRejected('revoked', 'refresh token has been revoked')
    if (record.usedAt !== undefined || !(await stores.refreshTokens.markUsed(record.tokenId, now))) {
      throw new RefreshRejected(
        'reused',
        'refresh token was used before; its family has been revoked',
        grant.id,
      )
    }
    if (record.expiresAt <= now || grant.expiresAt <= now)
      throw new RefreshRejected('expired', 'refresh token has expired')
    return grant
  }

  /** Hash lookup for revocation and introspection. */
  async find(tenant: Tenant, token: string): Promise<{ grant: Grant; active: boolean } | undefined> {
    const record = await lookup(this.#store, tenant, token)
    if (!record) return undefined
    const grant = await this.#store.grants.get(tenant.id, record.grantId)
    if (!grant) return undefined
    const now = this.#clock.now()
    const active =
      record.usedAt === undefined &&
      record.expiresAt > now &&
      grant.expiresAt > now &&
      grant.revokedAt === undefined
    return { grant, active }
  }
}

async function lookup(
  stores: Pick<Stores, 'refreshTokens'>,
  tenant: Tenant,
  token: string,
): Promise<RefreshTokenRecord | undefined> {
  const match = tokenFormat.exec(token)
  if (!match) return undefined
  const record = await stores.refreshTokens.get(match[1]!)
  if (!record || record.tenantId !== tenant.id || !secretMatchesHash(match[2]!, record.tokenHash))
    return undefined
  return record
}
