import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Services } from '../../domain/services.ts'
import { authenticateAccessToken } from '../protected-resource.ts'
import { TenantParams } from '../schemas.ts'

/** OIDC userinfo. Anonymous subjects have no personal data: only `sub`, and how they authenticated. */
export function userinfoRoute(app: FastifyInstance, services: Services): void {
  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<Record<string, unknown>> => {
    const { tenant } = request
    const claims = await authenticateAccessToken(request, services, tenant, {
      url: `${services.tokens.issuer(tenant.id)}/userinfo`,
    })
    reply.header('cache-control', 'no-store')
    return {
      sub: claims.sub,
      ...(claims.acr !== undefined && { acr: claims.acr }),
      ...(claims.amr && { amr: claims.amr }),
    }
  }
  app.get('/userinfo', { schema: { params: TenantParams } }, handler)
  app.post('/userinfo', { schema: { params: TenantParams } }, handler)
}
