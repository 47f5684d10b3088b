import type { FastifyInstance } from 'fastify'
import type { Services } from '../domain/services.ts'
import { OAuthError } from '../errors/oauth-error.ts'
import type { Tenant } from '../store/tenant-store.ts'

declare module 'fastify' {
  interface FastifyRequest {
    /** The tenant named by the `:tenant` path parameter, resolved before the handler. */
    tenant: Tenant
  }
}

/** Resolves `:tenant` for every route registered in `app` (an encapsulated plugin context). */
export function resolveTenant(app: FastifyInstance, services: Services): void {
  app.decorateRequest('tenant', null as unknown as Tenant)
  app.addHook('preHandler', async (request) => {
    const id = (request.params as { tenant?: string }).tenant ?? ''
    const tenant = await services.tenants.find(id)
    if (!tenant)
      throw new OAuthError('invalid_request', `unknown tenant "${id.slice(0, 64)}"`, { status: 404 })
    request.tenant = tenant
  })
}
