import type { FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'
import type { Services } from '../../domain/services.ts'

export function healthRoutes(app: FastifyInstance, services: Services): void {
  app.get('/healthz', async () => ({ status: 'ok' }))

  /** Ready when the database (and Redis, in a cluster) answer. */
  app.get('/readyz', async (request, reply) => {
    try {
      await services.store.ping()
      await services.ephemeral.ping()
      return { status: 'ready' }
    } catch (error) {
      request.log.warn({ err: error }, 'not ready')
      return reply.code(503).send({ status: 'unavailable' })
    }
  })
}

/** Prometheus metrics of `registry`, on `app`: the public server, or the admin port when there is one. */
export function metricsRoute(app: FastifyInstance, registry: Registry): void {
  app.get('/metrics', async (_request, reply) => {
    reply.type(registry.contentType)
    return registry.metrics()
  })
}
