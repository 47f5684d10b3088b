import { decodeJWS, isJWSAlgorithm, JWSFormatError, verifySignatureInThreadPool } from '@onramp/crypto'
import type { AccessTokenClaims } from '@onramp/protocol'
import { randomId } from '../crypto/secrets.ts'
import type { GrantStatus } from '../store/grant-store.ts'
import type { Stores } from '../store/stores.ts'
import type { Tenant } from '../store/tenant-store.ts'
import type { Clock } from './clock.ts'
import type { KeyManager } from './key-manager.ts'

export interface AccessTokenRequest {
  subject: string
  audience: string
  clientId: string
  scope: string
  acr?: string
  amr?: string[]
  sid?: string
  jkt?: string
  ttl: number
}

export interface IssuedAccessToken {
  token: string
  expiresIn: number
  claims: AccessTokenClaims
}

// Bounded so a flood of distinct valid tokens cannot grow memory without limit (~10 MB at most).
const verifiedCacheSize = 10_000

/** Why a token is not accepted; callers map it to their protocol's error. */
export type TokenRejection = 'malformed' | 'signature' | 'issuer' | 'expired' | 'type' | 'revoked'

export class TokenRejected extends Error {
  readonly reason: TokenRejection
  constructor(reason: TokenRejection, message: string) {
    super(message)
    this.name = 'TokenRejected'
    this.reason = reason
  }
}

/** Issues and verifies RFC 9068 JWT access tokens for one server (all tenants). */
export class TokenManager {
  readonly #keys: KeyManager
  readonly #clock: Clock
  readonly #publicUrl: string
  /**
   * Tokens whose signature, type and issuer we already checked, by exact text, with the tenant
   * they were checked for. A device presents the same access token for every exchange until it
   * expires; verifying it once saves an ECDSA verification per request. Expiry and revocation are
   * still checked on every use.
   */
  readonly #verified = new Map<string, { tenantId: string; claims: AccessTokenClaims }>()

  constructor(options: { keys: KeyManager; clock: Clock; publicUrl: string }) {
    this.#keys = options.keys
    this.#clock = options.clock
    this.#publicUrl = options.publicUrl
  }

  issuer(tenantId: string): string {
    return `${this.#publicUrl}/t/${tenantId}`
  }

  async issueAccessToken(tenant: Tenant, request: AccessTokenRequest): Promise<IssuedAccessToken> {
    const iat = this.#clock.now()
    const claims: AccessTokenClaims = {
      iss: this.issuer(tenant.id),
      sub: request.subject,
      aud: request.audience,
      client_id: request.clientId,
      ...(request.scope && { scope: request.scope }),
      iat,
      exp: iat + request.ttl,
      jti: randomId(),
      ...(request.acr !== undefined && { acr: request.acr }),
      ...(request.amr && { amr: request.amr }),
      ...(request.sid && { sid: request.sid }),
      ...(request.jkt && { cnf: { jkt: request.jkt } }),
    }
    return { token: await this.#keys.signJWT(tenant.id, 'at+jwt', claims), expiresIn: request.ttl, claims }
  }

  /**
   * Checks signature, type, issuer and expiry of one of the tenant's access tokens (audience is
   * the caller's business). Tokens of another tenant fail: their `kid` is not among this tenant's keys.
   * `acceptExpired` skips only the expiry check, for messages a device may send after its token
   * ran out (an Apple MDM `CheckOut`).
   */
  async verifyAccessToken(
    tenantId: string,
    token: string,
    options?: { acceptExpired?: boolean },
  ): Promise<AccessTokenClaims> {
    // Keyed by the token alone: a key made of tenant and token would copy the token's text again.
    const cached = this.#verified.get(token)
    let claims = cached?.tenantId === tenantId ? cached.claims : undefined
    if (!claims) {
      claims = await this.#verify(tenantId, token)
      if (this.#verified.size >= verifiedCacheSize) this.#verified.delete(this.#verified.keys().next().value!)
      this.#verified.set(token, { tenantId, claims })
    }
    if (claims.exp <= this.#clock.now() && !options?.acceptExpired)
      throw new TokenRejected('expired', 'token has expired')
    return claims
  }

  async #verify(tenantId: string, token: string): Promise<AccessTokenClaims> {
    let decoded: ReturnType<typeof decodeJWS>
    try {
      decoded = decodeJWS(token)
    } catch (error) {
      if (error instanceof JWSFormatError) throw new TokenRejected('malformed', 'token is not a JWT')
      throw error
    }
    const { header, payload } = decoded
    if (header.typ !== 'at+jwt') throw new TokenRejected('type', 'not an access token')
    if (!isJWSAlgorithm(header.alg) || typeof header.kid !== 'string') {
      throw new TokenRejected('signature', 'unexpected token algorithm')
    }
    const verification = await this.#keys.verificationKey(tenantId, header.kid)
    // The header's alg must be the key's own: a token cannot pick how its key is used.
    if (
      !verification ||
      verification.alg !== header.alg ||
      !(await verifySignatureInThreadPool(
        header.alg,
        verification.key,
        decoded.signingInput,
        decoded.signature,
      ))
    ) {
      throw new TokenRejected('signature', 'token signature is invalid')
    }
    if (payload.iss !== this.issuer(tenantId)) throw new TokenRejected('issuer', 'token is of another issuer')
    if (typeof payload.exp !== 'number') throw new TokenRejected('malformed', 'token has no expiry')
    return payload as unknown as AccessTokenClaims
  }

  /** The token's family, if it is still active: revoked or superseded families end every token in them. */
  async activeGrant(
    tenantId: string,
    claims: AccessTokenClaims,
    stores: Pick<Stores, 'grants'>,
  ): Promise<GrantStatus | undefined> {
    if (!claims.sid) return undefined
    const grant = await stores.grants.status(tenantId, claims.sid)
    if (!grant || grant.revokedAt !== undefined || grant.expiresAt <= this.#clock.now()) {
      throw new TokenRejected('revoked', 'token has been revoked')
    }
    return grant
  }
}
