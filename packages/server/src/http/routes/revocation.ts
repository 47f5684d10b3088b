import type { FastifyInstance } from 'fastify'
import type { Services } from '../../domain/services.ts'
import { TokenRejected } from '../../domain/token-manager.ts'
import { InvalidRequest } from '../../errors/oauth-error.ts'
import type { Tenant } from '../../store/tenant-store.ts'
import { authenticateClient } from '../client-authentication.ts'
import { requireFormBody } from '../form-body.ts'
import { FormBody, TenantParams } from '../schemas.ts'

/**
 * RFC 7009. Revoking a refresh token, or an access token, ends the whole family (`sid`): every
 * refresh and access token of that grant. Unknown tokens, and tokens of other clients, get the
 * same 200 so the endpoint reveals nothing.
 */
export function revocationRoute(app: FastifyInstance, services: Services): void {
  app.post(
    '/revoke',
    { preValidation: requireFormBody, schema: { params: TenantParams, body: FormBody } },
    async (request, reply) => {
      const params = request.body as Record<string, string>
      const { tenant } = request
      const client = await authenticateClient(services, tenant, params, request.headers.authorization)
      const token = params.token
      if (!token) throw new InvalidRequest('token is required')
      const grantId = await findGrant(services, tenant, token, client.clientId, params.token_type_hint)
      if (grantId) await services.store.grants.revoke(tenant.id, grantId, 'revoked', services.clock.now())
      reply.header('cache-control', 'no-store')
      return reply.code(200).send()
    },
  )
}

async function findGrant(
  services: Services,
  tenant: Tenant,
  token: string,
  clientId: string,
  hint: string | undefined,
): Promise<string | undefined> {
  const asRefresh = async (): Promise<string | undefined> => {
    const found = await services.refreshTokens.find(tenant, token)
    return found && found.grant.clientId === clientId ? found.grant.id : undefined
  }
  const asAccess = async (): Promise<string | undefined> => {
    try {
      const claims = await services.tokens.verifyAccessToken(tenant.id, token)
      return claims.client_id === clientId ? claims.sid : undefined
    } catch (error) {
      if (error instanceof TokenRejected) return undefined
      throw error
    }
  }
  return hint === 'access_token'
    ? ((await asAccess()) ?? (await asRefresh()))
    : ((await asRefresh()) ?? (await asAccess()))
}
