import { JWSAlgorithms } from '@onramp/crypto'
import { AnonymousACR, GrantType, PasskeyACR, PasswordACR } from '@onramp/protocol'
import type { FastifyInstance } from 'fastify'
import type { Services } from '../../domain/services.ts'
import { clientAuthMethods } from '../client-authentication.ts'
import { TenantParams } from '../schemas.ts'

/** RFC 8414 / OpenID Connect Discovery metadata of one tenant. */
export function serverMetadata(issuer: string): Record<string, unknown> {
  return {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    pushed_authorization_request_endpoint: `${issuer}/par`,
    require_pushed_authorization_requests: false,
    token_endpoint: `${issuer}/token`,
    jwks_uri: `${issuer}/jwks`,
    revocation_endpoint: `${issuer}/revoke`,
    introspection_endpoint: `${issuer}/introspect`,
    userinfo_endpoint: `${issuer}/userinfo`,
    grant_types_supported: [
      GrantType.anonymous,
      GrantType.refreshToken,
      GrantType.tokenExchange,
      GrantType.clientCredentials,
      GrantType.authorizationCode,
    ],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    code_challenge_methods_supported: ['S256'],
    authorization_response_iss_parameter_supported: true,
    prompt_values_supported: ['none', 'login', 'consent', 'select_account', 'create'],
    token_endpoint_auth_methods_supported: clientAuthMethods,
    revocation_endpoint_auth_methods_supported: clientAuthMethods,
    introspection_endpoint_auth_methods_supported: clientAuthMethods.filter((m) => m !== 'none'),
    dpop_signing_alg_values_supported: JWSAlgorithms,
    subject_types_supported: ['public'],
    acr_values_supported: [AnonymousACR, PasswordACR, PasskeyACR],
    claims_supported: ['sub', 'acr', 'amr'],
    authentication_modes_supported: ['no', 'password', 'biometric'],
    app_config_endpoint: `${issuer}/app-config`,
    profile_merge_endpoint: `${issuer}/profile/merge`,
  }
}

export function discoveryRoutes(app: FastifyInstance, services: Services): void {
  app.get(
    '/.well-known/openid-configuration',
    { schema: { params: TenantParams } },
    async (request, reply) => {
      reply.header('cache-control', 'public, max-age=300')
      return serverMetadata(services.tokens.issuer(request.tenant.id))
    },
  )
}

/** RFC 8414 §3: metadata of issuer `{host}/t/{tenant}` at `/.well-known/oauth-authorization-server/t/{tenant}`. */
export function rootDiscoveryRoute(app: FastifyInstance, services: Services): void {
  app.get(
    '/.well-known/oauth-authorization-server/t/:tenant',
    { schema: { params: TenantParams } },
    async (request, reply) => {
      reply.header('cache-control', 'public, max-age=300')
      return serverMetadata(services.tokens.issuer(request.tenant.id))
    },
  )
}
