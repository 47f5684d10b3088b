import { createHash } from 'node:crypto'
import { randomToken } from '../crypto/secrets.ts'
import { CodeRejected } from '../domain/authorization-code-manager.ts'
import type { EphemeralStore } from '../ephemeral/ephemeral-store.ts'
import { AppError } from '../errors/app-error.ts'
import type { Grant } from '../store/grant-store.ts'
import type { Tenant } from '../store/tenant-store.ts'
import { appleOAuthScope, appleURLs } from './apple-config-manager.ts'
import type { AppleEnrollmentManager } from './apple-enrollment-manager.ts'

/** The hosted login's side of the seam: redeeming the code of a finished sign-in for its token family. */
export interface SignInCodes {
  redeem(
    tenant: Tenant,
    code: string,
    redemption: { clientId: string; redirectUri: string; codeVerifier: string; jkt: undefined },
  ): Promise<{ grant: Grant }>
}

/** Seconds a person has to sign in before the device's web view must start again. */
const signInLifetime = 30 * 60

interface PendingSignIn {
  /** The PKCE code verifier. */
  verifier: string
}

/**
 * The simple method's web sign-in (`apple-as-web`), handed over to the hosted login: the page the
 * challenge names sends the device's web view to the tenant's own `/authorize`, as the tenant's
 * Apple client, with PKCE, `state` and the user identifier as `login_hint`; the callback redeems
 * the code for the sign-in's token family and ends with the 308 to
 * `apple-remotemanagement-user-login://authentication-results?access-token=…`.
 */
export class AppleSignIn {
  readonly #ephemeral: EphemeralStore
  readonly #codes: SignInCodes
  readonly #enrollments: AppleEnrollmentManager
  readonly #issuer: (tenantId: string) => string

  constructor(options: {
    ephemeral: EphemeralStore
    codes: SignInCodes
    enrollments: AppleEnrollmentManager
    issuer: (tenantId: string) => string
  }) {
    this.#ephemeral = options.ephemeral
    this.#codes = options.codes
    this.#enrollments = options.enrollments
    this.#issuer = options.issuer
  }

  /** Where the sign-in page sends the web view: the hosted login, by way of `/authorize`. */
  async start(tenant: Tenant, userIdentifier: string): Promise<string> {
    await this.#enrollments.checkUserIdentifier(tenant, userIdentifier)
    const config = await this.#enrollments.config(tenant)
    const state = randomToken()
    const pending: PendingSignIn = { verifier: randomToken() }
    await this.#ephemeral.set(key(tenant.id, state), JSON.stringify(pending), signInLifetime)
    const issuer = this.#issuer(tenant.id)
    const url = new URL(`${issuer}/authorize`)
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: config.settings.clientId,
      redirect_uri: appleURLs(issuer).loginCallback,
      scope: appleOAuthScope,
      state,
      code_challenge: createHash('sha256').update(pending.verifier).digest('base64url'),
      code_challenge_method: 'S256',
      login_hint: userIdentifier,
    }).toString()
    return url.toString()
  }

  /** The callback: the authorization response, once; returns the `Location` of the 308. */
  async finish(tenant: Tenant, response: { code?: string; state?: string; error?: string }): Promise<string> {
    const stored = response.state ? await this.#ephemeral.take(key(tenant.id, response.state)) : undefined
    if (!stored) throw new AppError('invalid_input', 'the sign-in is unknown or has expired; start again')
    if (response.error !== undefined || !response.code)
      throw new AppError('forbidden', `the sign-in did not succeed (${response.error ?? 'no code'})`)
    const pending = JSON.parse(stored) as PendingSignIn
    const config = await this.#enrollments.config(tenant)
    let grant: Grant
    try {
      ;({ grant } = await this.#codes.redeem(tenant, response.code, {
        clientId: config.settings.clientId,
        redirectUri: appleURLs(this.#issuer(tenant.id)).loginCallback,
        codeVerifier: pending.verifier,
        jkt: undefined,
      }))
    } catch (error) {
      if (error instanceof CodeRejected) throw new AppError('forbidden', error.message)
      throw error
    }
    return (await this.#enrollments.completeSignIn(tenant, grant)).location
  }
}

function key(tenantId: string, state: string): string {
  return `apple-sign-in:${tenantId}:${state}`
}
