import type { FastifyInstance } from 'fastify'
import type { Services } from '../../domain/services.ts'
import { TenantParams } from '../schemas.ts'

export function jwksRoute(app: FastifyInstance, services: Services): void {
  app.get('/jwks', { schema: { params: TenantParams } }, async (request, reply) => {
    // Short: verifiers also refetch on an unknown kid, so a rotation is seen either way.
    reply.header('cache-control', 'public, max-age=60').type('application/jwk-set+json')
    return services.keys.jwks(request.tenant.id)
  })
}
