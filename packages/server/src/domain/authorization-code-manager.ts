import { createHash, timingSafeEqual } from 'node:crypto'
import type { AuthorizationRequest } from '../authorization/authorization-request.ts'
import { hashSecret, randomToken, secretMatchesHash, timeOrderedId } from '../crypto/secrets.ts'
import type { Authentication } from '../login/authentication-method.ts'
import type { AuthorizationCodeRecord } from '../store/authorization-code-store.ts'
import type { Grant } from '../store/grant-store.ts'
import type { Store, Stores } from '../store/stores.ts'
import type { Tenant } from '../store/tenant-store.ts'
import type { Clock } from './clock.ts'
import { IdentityTaken, type LinkOutcome, linkIdentity } from './identity-linking.ts'
import { attributeLimitsOf } from './profile-manager.ts'
import type { RefreshTokenManager } from './refresh-token-manager.ts'

/** Seconds a code may wait for its redemption (RFC 6749 §4.1.2: short, at most 10 minutes). */
export const authorizationCodeLifetime = 60

/** Attempts at a redemption that lost a race for a new identity (the next attempt finds it linked). */
const linkAttempts = 3

export type CodeFailure =
  | 'unknown'
  | 'wrong_client'
  | 'expired'
  | 'reused'
  | 'redirect_uri'
  | 'pkce'
  | 'wrong_key'

export class CodeRejected extends Error {
  readonly reason: CodeFailure
  /** With `reused`: the grant the first redemption created, to revoke. */
  readonly grantId: string | undefined
  constructor(reason: CodeFailure, message: string, grantId?: string) {
    super(message)
    this.name = 'CodeRejected'
    this.reason = reason
    this.grantId = grantId
  }
}

export interface CodeRedemption {
  clientId: string
  redirectUri: string | undefined
  codeVerifier: string | undefined
  /** The thumbprint of the token request's DPoP proof key, if it carried one. */
  jkt: string | undefined
}

export interface RedeemedCode {
  grant: Grant
  refreshToken: string
  outcome: LinkOutcome
}

/** `{id}.{secret}`, like refresh tokens: the id finds the row, the secret is checked against its hash. */
const codeFormat = /^([0-9a-v]{26})\.([A-Za-z0-9_-]{43})$/
const verifierFormat = /^[A-Za-z0-9._~-]{43,128}$/

/**
 * Authorization codes, kept in the database rather than the ephemeral store: redeeming one
 * writes the identity link, the attached profile, the revoked anonymous grants, the new grant
 * and its refresh token, and all of that must commit or roll back with the code's single use (a
 * conditional update of `used_at`), in one transaction that every node of a cluster sees.
 */
export class AuthorizationCodeManager {
  readonly #store: Store
  readonly #clock: Clock
  readonly #refreshTokens: RefreshTokenManager

  constructor(options: { store: Store; clock: Clock; refreshTokens: RefreshTokenManager }) {
    this.#store = options.store
    this.#clock = options.clock
    this.#refreshTokens = options.refreshTokens
  }

  /** Issues a code for a completed sign-in. */
  async issue(
    tenant: Tenant,
    request: AuthorizationRequest,
    authentication: Authentication,
  ): Promise<string> {
    const codeId = timeOrderedId()
    const secret = randomToken()
    const now = this.#clock.now()
    const record: AuthorizationCodeRecord = {
      codeId,
      codeHash: hashSecret(secret),
      tenantId: tenant.id,
      clientId: request.clientId,
      redirectUri: request.redirectUri,
      scope: request.scope,
      codeChallenge: request.codeChallenge,
      codeChallengeMethod: request.codeChallengeMethod,
      dpopJkt: request.dpopJkt,
      provider: authentication.provider,
      subject: authentication.subject,
      acr: authentication.acr,
      amr: authentication.amr,
      authTime: authentication.authTime,
      anonymousProfileId: request.anonymous?.profileId,
      anonymousGrantId: request.anonymous?.grantId,
      createdAt: now,
      expiresAt: now + authorizationCodeLifetime,
      usedAt: undefined,
      grantId: undefined,
    }
    await this.#store.authorizationCodes.create(record)
    return `${codeId}.${secret}`
  }

  /**
   * Redeems a code: checks it against the token request, links the identity to its profile and
   * issues a new grant with a refresh token, all in one transaction. A code presented a second
   * time revokes the grant of its first redemption (RFC 6749 §4.1.2).
   */
  async redeem(tenant: Tenant, code: string, redemption: CodeRedemption): Promise<RedeemedCode> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#store.transaction((stores) => this.#redeem(stores, tenant, code, redemption))
      } catch (error) {
        if (error instanceof IdentityTaken && attempt < linkAttempts) continue
        if (error instanceof CodeRejected && error.reason === 'reused' && error.grantId) {
          await this.#store.grants.revoke(
            tenant.id,
            error.grantId,
            'authorization_code_reuse',
            this.#clock.now(),
          )
        }
        throw error
      }
    }
  }

  async #redeem(
    stores: Stores,
    tenant: Tenant,
    code: string,
    redemption: CodeRedemption,
  ): Promise<RedeemedCode> {
    const now = this.#clock.now()
    const match = codeFormat.exec(code)
    const record = match ? await stores.authorizationCodes.get(match[1]!) : undefined
    if (!record || record.tenantId !== tenant.id || !secretMatchesHash(match![2]!, record.codeHash))
      throw new CodeRejected('unknown', 'authorization code is invalid')
    if (record.clientId !== redemption.clientId)
      throw new CodeRejected('wrong_client', 'authorization code was issued to another client')
    if (record.usedAt !== undefined)
      throw new CodeRejected(
        'reused',
        'authorization code was used before; its tokens are revoked',
        record.grantId,
      )
    if (record.expiresAt <= now) throw new CodeRejected('expired', 'authorization code has expired')
    if (redemption.redirectUri !== record.redirectUri)
      throw new CodeRejected('redirect_uri', 'redirect_uri differs from the authorization request')
    checkPKCE(record, redemption.codeVerifier)
    if (record.dpopJkt !== undefined && redemption.jkt !== record.dpopJkt) {
      throw new CodeRejected(
        'wrong_key',
        redemption.jkt === undefined
          ? 'authorization code is DPoP-bound: send a DPoP proof made with its key'
          : 'the DPoP proof key differs from the one the authorization code is bound to',
      )
    }

    const grantId = timeOrderedId()
    if (!(await stores.authorizationCodes.markUsed(record.codeId, now, grantId))) {
      // A concurrent redemption won: its grant is committed by now, and is the one to revoke.
      const winner = await stores.authorizationCodes.get(record.codeId)
      throw new CodeRejected(
        'reused',
        'authorization code was used before; its tokens are revoked',
        winner?.grantId,
      )
    }
    const linked = await linkIdentity(stores, {
      tenantId: tenant.id,
      provider: record.provider,
      subject: record.subject,
      anonymous:
        record.anonymousProfileId && record.anonymousGrantId
          ? { profileId: record.anonymousProfileId, grantId: record.anonymousGrantId }
          : undefined,
      mergePolicy: tenant.settings.mergePolicy,
      attributeLimits: attributeLimitsOf(tenant.settings),
      now,
    })
    const jkt = record.dpopJkt ?? redemption.jkt
    // Without an anonymous token, a person signing in again on a device of theirs (the SDK's
    // `Login` from a person's enrollment) is known by the device key the code is redeemed with.
    const device =
      linked.deviceId === undefined && jkt !== undefined
        ? await stores.devices.findActive(tenant.id, linked.profileId, jkt)
        : undefined
    const grant: Grant = {
      id: grantId,
      tenantId: tenant.id,
      profileId: linked.profileId,
      clientId: record.clientId,
      deviceId: linked.deviceId ?? device?.id,
      jkt,
      scope: record.scope,
      acr: record.acr,
      amr: record.amr,
      createdAt: now,
      expiresAt: now + tenant.settings.refreshTokenAbsoluteTtl,
      revokedAt: undefined,
      revokedReason: undefined,
    }
    await stores.grants.create(grant)
    const refreshToken = await this.#refreshTokens.issue(stores, tenant, grant)
    return { grant, refreshToken, outcome: linked.outcome }
  }
}

/** RFC 7636 §4.6: BASE64URL(SHA256(code_verifier)) must equal the stored challenge. */
function checkPKCE(record: AuthorizationCodeRecord, verifier: string | undefined): void {
  if (record.codeChallenge === undefined) {
    // RFC 9700 §2.1.1: a verifier for a code issued without a challenge is a downgrade attempt.
    if (verifier !== undefined) throw new CodeRejected('pkce', 'code_verifier was not expected')
    return
  }
  if (verifier === undefined) throw new CodeRejected('pkce', 'code_verifier is required')
  if (!verifierFormat.test(verifier))
    throw new CodeRejected('pkce', 'code_verifier must be 43–128 unreserved characters')
  const computed = Buffer.from(createHash('sha256').update(verifier).digest('base64url'))
  const challenge = Buffer.from(record.codeChallenge)
  if (computed.length !== challenge.length || !timingSafeEqual(computed, challenge))
    throw new CodeRejected('pkce', 'code_verifier does not match the code_challenge')
}
