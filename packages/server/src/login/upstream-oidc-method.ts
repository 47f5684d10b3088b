import { PasswordACR } from '@onramp/protocol'
import * as client from 'openid-client'
import type { SecretBox } from '../crypto/secret-box.ts'
import type { Clock } from '../domain/clock.ts'
import type { Tenant, UpstreamProvider } from '../store/tenant-store.ts'
import type {
  AuthenticationMethod,
  MethodInput,
  MethodResult,
  Rejection,
  ResumeInput,
} from './authentication-method.ts'
import { clientSecretContext, upstreamIdentityProvider } from './upstream-providers.ts'

/** Seconds a discovered provider configuration is reused. */
const configurationLifetime = 10 * 60

/** Seconds any one request to an upstream provider may take. */
const upstreamTimeout = 10

/** RFC 8176 values an upstream provider may report, passed on next to `fed`. */
const registeredAMR = new Set([
  'face',
  'fpt',
  'geo',
  'hwk',
  'iris',
  'kba',
  'mca',
  'mfa',
  'otp',
  'pin',
  'pop',
  'pwd',
  'rba',
  'retina',
  'sc',
  'sms',
  'swk',
  'tel',
  'user',
  'vbm',
  'wia',
])

/**
 * Sign-in through the tenant's upstream OpenID Connect providers (authorization code flow with
 * PKCE S256, `state` and `nonce`, through `openid-client`). The person picks a provider, the
 * browser goes there and comes back to `{issuer}/login/callback/{name}`; the round trip's secrets
 * stay with the interaction on the server. Authenticates the identity (`oidc:{name}`, `sub`) at
 * `acr` 1 with `amr` `fed` (plus the registered values the provider reports).
 */
export class UpstreamOIDCMethod implements AuthenticationMethod {
  readonly id = 'oidc'
  readonly actions = ['redirect'] as const
  readonly #secretBox: SecretBox
  readonly #clock: Clock
  readonly #issuer: (tenantId: string) => string
  readonly #configurations = new Map<string, { configuration: client.Configuration; expiresAt: number }>()

  constructor(options: { secretBox: SecretBox; clock: Clock; issuer: (tenantId: string) => string }) {
    this.#secretBox = options.secretBox
    this.#clock = options.clock
    this.#issuer = options.issuer
  }

  /** Where the provider sends the browser back: register this at the provider. */
  callbackURL(tenantId: string, name: string): string {
    return `${this.#issuer(tenantId)}/login/callback/${name}`
  }

  /**
   * Origins the login page's forms may end up at (CSP `form-action` applies to the redirect after
   * a form post): the authorization endpoints already discovered, else the issuers.
   */
  formTargets(tenant: Tenant): string[] {
    return (tenant.settings.upstreamProviders ?? []).map((provider) => {
      const cached = this.#configurations.get(cacheKey(tenant.id, provider))
      const endpoint = cached?.configuration.serverMetadata().authorization_endpoint
      return new URL(endpoint ?? provider.issuer).origin
    })
  }

  async authenticate(input: MethodInput): Promise<MethodResult> {
    const provider = findProvider(input.tenant, input.fields.provider)
    if (!provider)
      return rejected('invalid_input', 'This way of signing in is not offered here any more. Choose another.')
    let configuration: client.Configuration
    try {
      configuration = await this.#configuration(input.tenant, provider)
    } catch (error) {
      return unavailable(provider, `discovery failed: ${describe(error)}`)
    }
    const codeVerifier = client.randomPKCECodeVerifier()
    const state = client.randomState()
    const nonce = client.randomNonce()
    const location = client.buildAuthorizationUrl(configuration, {
      redirect_uri: this.callbackURL(input.tenant.id, provider.name),
      scope: provider.scopes.join(' '),
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    })
    return {
      status: 'redirect',
      roundTrip: {
        location: location.href,
        pending: {
          method: this.id,
          values: {
            provider: provider.name,
            issuer: provider.issuer,
            clientId: provider.clientId,
            state,
            nonce,
            codeVerifier,
          },
        },
      },
    }
  }

  async resume(input: ResumeInput): Promise<MethodResult> {
    const { values } = input.pending
    const provider = findProvider(input.tenant, values.provider)
    const expectedPath = new URL(this.callbackURL(input.tenant.id, values.provider ?? '')).pathname
    if (
      !provider ||
      provider.issuer !== values.issuer ||
      provider.clientId !== values.clientId ||
      input.returnURL.pathname !== expectedPath ||
      values.state === undefined ||
      input.returnURL.searchParams.get('state') !== values.state
    ) {
      return rejected('upstream_failed', 'This sign-in could not be confirmed. Try again.')
    }
    try {
      const configuration = await this.#configuration(input.tenant, provider)
      const tokens = await client.authorizationCodeGrant(configuration, input.returnURL, {
        pkceCodeVerifier: values.codeVerifier,
        expectedState: values.state,
        expectedNonce: values.nonce,
        idTokenExpected: true,
      })
      const claims = tokens.claims()
      if (!claims || typeof claims.sub !== 'string' || claims.sub.length === 0 || claims.sub.length > 255)
        return unavailable(provider, 'the ID token has no usable sub')
      const upstreamAMR = Array.isArray(claims.amr)
        ? claims.amr.filter((value): value is string => typeof value === 'string' && registeredAMR.has(value))
        : []
      return {
        status: 'authenticated',
        authentication: {
          provider: upstreamIdentityProvider(provider.name),
          subject: claims.sub,
          acr: PasswordACR,
          amr: [...new Set(['fed', ...upstreamAMR])],
          authTime: this.#clock.now(),
        },
      }
    } catch (error) {
      if (error instanceof client.AuthorizationResponseError) {
        return error.error === 'access_denied'
          ? rejected(
              'upstream_denied',
              `Signing in with ${provider.name} was cancelled. Try again or choose another way.`,
            )
          : rejected(
              'upstream_denied',
              `${provider.name} did not sign you in. Try again or choose another way.`,
            )
      }
      // Unreachable, a refused code, a bad ID token: the person can only try again.
      this.#configurations.delete(cacheKey(input.tenant.id, provider))
      return unavailable(provider, `code exchange failed: ${describe(error)}`)
    }
  }

  async #configuration(tenant: Tenant, provider: UpstreamProvider): Promise<client.Configuration> {
    const key = cacheKey(tenant.id, provider)
    const now = this.#clock.now()
    const cached = this.#configurations.get(key)
    if (cached && cached.expiresAt > now) return cached.configuration
    const secret =
      provider.sealedClientSecret === undefined
        ? undefined
        : this.#secretBox.open(provider.sealedClientSecret, clientSecretContext(tenant.id, provider.name))
    const configuration = await client.discovery(
      new URL(provider.issuer),
      provider.clientId,
      secret,
      secret === undefined ? client.None() : client.ClientSecretBasic(secret),
      {
        timeout: upstreamTimeout,
        execute: new URL(provider.issuer).protocol === 'http:' ? [client.allowInsecureRequests] : [],
      },
    )
    if (this.#configurations.size >= 1000) this.#configurations.clear()
    this.#configurations.set(key, { configuration, expiresAt: now + configurationLifetime })
    return configuration
  }
}

function findProvider(tenant: Tenant, name: string | undefined): UpstreamProvider | undefined {
  return (tenant.settings.upstreamProviders ?? []).find((provider) => provider.name === name)
}

/** Changes of issuer, client or secret make a new key: the old configuration is never reused. */
function cacheKey(tenantId: string, provider: UpstreamProvider): string {
  return JSON.stringify([
    tenantId,
    provider.name,
    provider.issuer,
    provider.clientId,
    provider.sealedClientSecret ?? '',
  ])
}

function unavailable(provider: UpstreamProvider, detail: string): MethodResult {
  return {
    status: 'rejected',
    rejection: {
      reason: 'upstream_failed',
      message: `Signing in with ${provider.name} did not work. Try again later or choose another way.`,
      fieldErrors: [],
      detail: `${provider.name} (${provider.issuer}): ${detail}`,
    },
  }
}

/**
 * An error's name, code and message, for the log: never the whole object, whose response body and
 * request options (the client secret among them) must not reach logs.
 */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error).slice(0, 200)
  const code = (error as { code?: unknown }).code
  return `${error.name}${typeof code === 'string' ? ` ${code}` : ''}: ${error.message.slice(0, 300)}`
}

function rejected(reason: Rejection['reason'], message: string): MethodResult {
  return { status: 'rejected', rejection: { reason, message, fieldErrors: [] } }
}
