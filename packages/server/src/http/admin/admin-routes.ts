import { timingSafeEqual } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import type { Services } from '../../domain/services.ts'
import { AppError } from '../../errors/app-error.ts'
import { type AppOptions, createHTTPServer } from '../app.ts'

/** The admin API under `/admin/v1`, behind the admin bearer token. */
export function registerAdminRoutes(app: FastifyInstance, services: Services, adminToken: string): void {
  const expected = Buffer.from(adminToken)
  app.register(
    async (admin) => {
      admin.addHook('onRequest', async (request) => {
        const match = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')
        const given = Buffer.from(match?.[1] ?? '')
        if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
          throw new AppError('unauthorized', 'admin bearer token required')
        }
      })
      admin.get('/tenants', async () => ({ tenants: await services.tenants.list() }))
    },
    { prefix: '/admin/v1' },
  )
}

/** The admin API alone, for `ONRAMP_ADMIN_PORT`. */
export function buildAdminApp(options: AppOptions, adminToken: string): FastifyInstance {
  const app = createHTTPServer(options)
  registerAdminRoutes(app, options.services, adminToken)
  return app
}
