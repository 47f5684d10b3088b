import type { AccessTokenClaims } from '@onramp/protocol'
import { type TokenManager, TokenRejected } from '../domain/token-manager.ts'
import type { GrantStatus } from '../store/grant-store.ts'
import type { Store, Stores } from '../store/stores.ts'
import type { Tenant } from '../store/tenant-store.ts'
import { appleEnrollmentAudience, appleOAuthScope, appleURLs } from './apple-config-manager.ts'
import type { AppleConfig } from './apple-config-store.ts'
import { AppleAuthenticationRequired } from './apple-errors.ts'
import { type AppleChallenge, appleOAuthRedirectURL } from './challenge.ts'

/** A bearer token accepted for Apple enrollment: whose it is, and its family (absent for `CheckOut`). */
export interface AppleBearer {
  claims: AccessTokenClaims
  profileId: string
  grantId: string
  /** Undefined when the token was accepted although expired or revoked. */
  grant: GrantStatus | undefined
}

const bearerPattern = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i

/**
 * Ongoing authorization for Apple devices (Apple's "access token" of account-driven enrollment):
 * an access token of the tenant for the `apple-mdm` audience, or one the tenant's Apple client
 * got from the token endpoint (OAuth 2 method), of an active family, issued to an identified
 * person. Anything else is answered with the challenge that makes the device sign in again.
 */
export class AppleAuthorizer {
  readonly #store: Store
  readonly #tokens: TokenManager

  constructor(options: { store: Store; tokens: TokenManager }) {
    this.#store = options.store
    this.#tokens = options.tokens
  }

  /** The tenant's `WWW-Authenticate` challenge, for its authentication method. */
  challenge(tenant: Tenant, config: AppleConfig): AppleChallenge {
    const issuer = this.#tokens.issuer(tenant.id)
    if (config.settings.authenticationMethod === 'apple-as-web')
      return { method: 'apple-as-web', url: appleURLs(issuer).login }
    return {
      method: 'apple-oauth2',
      authorizationURL: `${issuer}/authorize`,
      tokenURL: `${issuer}/token`,
      redirectURL: appleOAuthRedirectURL,
      clientId: config.settings.clientId,
      scope: appleOAuthScope,
    }
  }

  /**
   * Checks the `Authorization` header, outside any transaction (verifying may load signing keys).
   * `lenient` accepts an expired token, or one of a revoked family, as long as its signature
   * verifies: a device that leaves (`CheckOut`) may no longer hold a live token, and refusing it
   * would only keep a stale enrollment around. `enrollmentSSO` adds the Enrollment SSO documents
   * to the challenge (the initial one, at the enrollment URL).
   */
  async authorize(
    tenant: Tenant,
    config: AppleConfig,
    authorization: string | undefined,
    options?: { lenient?: boolean; enrollmentSSO?: boolean },
  ): Promise<AppleBearer> {
    const reject = this.#rejecter(tenant, config, options)
    const match = authorization === undefined ? null : bearerPattern.exec(authorization)
    if (!match)
      throw reject(authorization === undefined ? 'sign-in required' : 'malformed Authorization header')
    const lenient = options?.lenient === true
    let claims: AccessTokenClaims
    let grant: GrantStatus | undefined
    try {
      claims = await this.#tokens.verifyAccessToken(tenant.id, match[1]!, { acceptExpired: lenient })
      if (!this.#isForApple(tenant, config, claims))
        throw reject('the token is not for Apple device management')
      if (!claims.sid) throw reject('the token belongs to no token family')
      try {
        grant = await this.#tokens.activeGrant(tenant.id, claims, this.#store)
      } catch (error) {
        if (!(error instanceof TokenRejected) || !lenient) throw error
      }
    } catch (error) {
      if (error instanceof TokenRejected) throw reject(error.message)
      throw error
    }
    if (grant && grant.profileId !== claims.sub) throw reject('the token does not match its family')
    const profile = await this.#store.profiles.get(tenant.id, claims.sub)
    if (profile?.kind !== 'identified') throw reject('sign in with an account of the organization')
    return { claims, profileId: profile.id, grantId: claims.sid, grant }
  }

  /** Inside the transaction that acts on an authorization: its family must still be active. */
  async assertStillActive(
    stores: Pick<Stores, 'grants'>,
    tenant: Tenant,
    config: AppleConfig,
    bearer: AppleBearer,
  ): Promise<void> {
    if (!bearer.grant) return
    const grant = await stores.grants.status(tenant.id, bearer.grantId)
    if (!grant || grant.revokedAt !== undefined)
      throw this.#rejecter(tenant, config, {})('token has been revoked')
  }

  #rejecter(
    tenant: Tenant,
    config: AppleConfig,
    options: { enrollmentSSO?: boolean } | undefined,
  ): (message: string) => AppleAuthenticationRequired {
    return (message) =>
      new AppleAuthenticationRequired(
        message,
        this.challenge(tenant, config),
        options?.enrollmentSSO ? this.#enrollmentSSO(tenant, config) : {},
      )
  }

  #isForApple(tenant: Tenant, config: AppleConfig, claims: AccessTokenClaims): boolean {
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud]
    if (audiences.includes(appleEnrollmentAudience)) return true
    // The OAuth 2 method's tokens come from the token endpoint, for the issuer, to the Apple client.
    return claims.client_id === config.settings.clientId && audiences.includes(this.#tokens.issuer(tenant.id))
  }

  #enrollmentSSO(tenant: Tenant, config: AppleConfig): { url?: string; developerURL?: string } {
    const urls = appleURLs(this.#tokens.issuer(tenant.id))
    return {
      ...(config.settings.enrollmentSSO && { url: urls.enrollmentSSO }),
      ...(config.settings.enrollmentSSODeveloper && { developerURL: urls.enrollmentSSODeveloper }),
    }
  }
}
