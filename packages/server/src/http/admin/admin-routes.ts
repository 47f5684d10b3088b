import { timingSafeEqual } from 'node:crypto'
import type { FastifyError, FastifyInstance } from 'fastify'
import { appleAdminRoutes } from '../../apple/http/admin-routes.ts'
import type { Services } from '../../domain/services.ts'
import { AppError } from '../../errors/app-error.ts'
import { type AppOptions, createHTTPServer } from '../app.ts'
import { accountRoutes } from './account-routes.ts'
import { clientRoutes } from './client-routes.ts'
import { deviceRoutes } from './device-routes.ts'
import { keyRoutes } from './key-routes.ts'
import { resourceRoutes } from './resource-routes.ts'
import { tenantRoutes } from './tenant-routes.ts'

/** The admin API under `/admin/v1`, behind the admin bearer token. */
export function registerAdminRoutes(app: FastifyInstance, services: Services, adminToken: string): void {
  const expected = Buffer.from(adminToken)
  app.register(
    async (admin) => {
      admin.addHook('onRequest', async (request, reply) => {
        reply.header('cache-control', 'no-store')
        const match = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')
        const given = Buffer.from(match?.[1] ?? '')
        if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
          reply.header('www-authenticate', 'Bearer realm="onramp-admin"')
          throw new AppError('unauthorized', 'admin bearer token required')
        }
      })
      admin.setErrorHandler(rethrowValidationAsInvalidInput)
      // Here, so that unknown admin paths need the token too.
      admin.setNotFoundHandler(async (request) => {
        throw new AppError('not_found', `no route for ${request.method} ${request.url.split('?')[0]}`)
      })
      tenantRoutes(admin, services)
      admin.register(
        async (tenantScope) => {
          tenantScope.addHook('preHandler', async (request) => {
            await services.tenants.get((request.params as { tenant: string }).tenant)
          })
          clientRoutes(tenantScope, services)
          resourceRoutes(tenantScope, services)
          deviceRoutes(tenantScope, services)
          accountRoutes(tenantScope, services)
          keyRoutes(tenantScope, services)
          appleAdminRoutes(tenantScope, services)
        },
        { prefix: '/tenants/:tenant' },
      )
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

/**
 * Schema failures of the admin API use its own `invalid_input` code, naming the offending field;
 * everything else goes on to the server's error handler.
 */
function rethrowValidationAsInvalidInput(error: FastifyError): never {
  const [issue] = error.validation ?? []
  if (!issue) throw error
  const where = `${error.validationContext ?? 'request'}${issue.instancePath.replaceAll('/', '.')}`
  if (issue.keyword === 'additionalProperties')
    throw new AppError('invalid_input', `${where} has unknown property "${issue.params.additionalProperty}"`)
  throw new AppError('invalid_input', `${where} ${issue.message ?? 'is invalid'}`)
}
