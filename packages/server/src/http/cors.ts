import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Services } from '../domain/services.ts'

/** Every method a tenant's routes answer (PATCH: a person names their passkey). */
const allowedMethods = 'GET, POST, PUT, PATCH, DELETE'
const allowedHeaders = 'authorization, content-type, dpop, if-match, if-none-match'
/**
 * What the SDK must read from responses: nonces to retry with, RFC 6750/9449 challenges and the
 * attribute versions it sends back in `If-Match`.
 */
const exposedHeaders = 'dpop-nonce, www-authenticate, retry-after, etag'

/**
 * CORS for a tenant's endpoints, so browser apps can enroll and refresh directly. A page may call
 * them when its origin is among the web origins of one of the tenant's clients; requests carry no
 * cookies, so credentials are never allowed. Other origins get no CORS headers at all, and the
 * browser keeps the response from the page.
 */
export function registerCORS(app: FastifyInstance, services: Services): void {
  // A callback hook, so that the many requests without an Origin go on at once, with no promise.
  app.addHook('onRequest', (request, reply, done) => {
    if (request.headers.origin === undefined) return done()
    answerOrigin(services, request, reply, request.headers.origin).then(() => done(), done)
  })
  // Preflight: the hook above has set the headers (or not); nothing else to say.
  app.options('/*', async (_request, reply) => reply.code(204).send())
}

async function answerOrigin(
  services: Services,
  request: FastifyRequest,
  reply: FastifyReply,
  origin: string,
): Promise<void> {
  const tenantId = (request.params as { tenant?: string }).tenant ?? ''
  reply.header('vary', 'origin')
  // CORS runs before the route's checks: only a tenant that exists has origins to look up.
  if (!(await services.tenants.find(tenantId))) return
  if (!(await services.clients.isWebOriginAllowed(tenantId, origin))) return
  reply.header('access-control-allow-origin', origin)
  if (request.method === 'OPTIONS') {
    reply
      .header('access-control-allow-methods', allowedMethods)
      .header('access-control-allow-headers', allowedHeaders)
      .header('access-control-max-age', '600')
  } else {
    reply.header('access-control-expose-headers', exposedHeaders)
  }
}
