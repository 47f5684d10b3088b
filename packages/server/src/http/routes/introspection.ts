import type { FastifyInstance } from 'fastify'
import type { Services } from '../../domain/services.ts'
import { TokenRejected } from '../../domain/token-manager.ts'
import { InvalidRequest } from '../../errors/oauth-error.ts'
import type { Tenant } from '../../store/tenant-store.ts'
import { authenticateIntrospector } from '../client-authentication.ts'
import { requireFormBody } from '../form-body.ts'
import { FormBody, TenantParams } from '../schemas.ts'

/**
 * RFC 7662, for confidential clients and for resource servers with a secret (their audience as
 * the client id), which see only the access tokens meant for them. Tokens of revoked families,
 * including anonymous tokens superseded by a sign-in, are reported inactive.
 */
export function introspectionRoute(app: FastifyInstance, services: Services): void {
  app.post(
    '/introspect',
    { preValidation: requireFormBody, schema: { params: TenantParams, body: FormBody } },
    async (request, reply) => {
      const params = request.body as Record<string, string>
      const { tenant } = request
      const caller = await authenticateIntrospector(services, tenant, params, request.headers.authorization)
      const token = params.token
      if (!token) throw new InvalidRequest('token is required')
      reply.header('cache-control', 'no-store')
      if ('resource' in caller) {
        // A resource server learns only about access tokens meant for it (RFC 7662 §4).
        const found = await introspectAccess(services, tenant, token)
        return found?.aud === caller.resource.audience ? found : { active: false }
      }
      const { client } = caller
      const first = params.token_type_hint === 'refresh_token' ? introspectRefresh : introspectAccess
      const second = first === introspectRefresh ? introspectAccess : introspectRefresh
      return (
        (await first(services, tenant, token, client.clientId)) ??
        (await second(services, tenant, token, client.clientId)) ?? { active: false }
      )
    },
  )
}

async function introspectAccess(
  services: Services,
  tenant: Tenant,
  token: string,
): Promise<Record<string, unknown> | undefined> {
  try {
    const claims = await services.tokens.verifyAccessToken(tenant.id, token)
    await services.tokens.activeGrant(tenant.id, claims, services.store)
    return { active: true, ...claims, token_type: claims.cnf ? 'DPoP' : 'Bearer' }
  } catch (error) {
    if (error instanceof TokenRejected) return undefined
    throw error
  }
}

/** Refresh tokens are shown only to the client they were issued to. */
async function introspectRefresh(
  services: Services,
  tenant: Tenant,
  token: string,
  clientId: string,
): Promise<Record<string, unknown> | undefined> {
  const found = await services.refreshTokens.find(tenant, token)
  if (!found || found.grant.clientId !== clientId) return undefined
  if (!found.active) return { active: false }
  const { grant } = found
  return {
    active: true,
    token_type: 'refresh_token',
    client_id: grant.clientId,
    sub: grant.profileId,
    scope: grant.scope,
    iss: services.tokens.issuer(tenant.id),
    exp: grant.expiresAt,
    sid: grant.id,
    ...(grant.jkt && { cnf: { jkt: grant.jkt } }),
  }
}
