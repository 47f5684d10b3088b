import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { appVersionStatus, versionPattern } from '../../domain/app-config-manager.ts'
import type { Services } from '../../domain/services.ts'
import { AppError } from '../../errors/app-error.ts'
import { TenantParams } from '../schemas.ts'

const Query = Type.Object({
  app_name: Type.String({ minLength: 1, maxLength: 128 }),
  app_version: Type.String({ pattern: versionPattern.source, maxLength: 64 }),
  platform: Type.Optional(Type.String({ pattern: '^[a-z0-9-]{1,32}$' })),
})

const Response = Type.Object({
  status: Type.Union([
    Type.Literal('ok'),
    Type.Literal('update_available'),
    Type.Literal('update_necessary'),
  ]),
  min_version: Type.Optional(Type.String()),
  latest_version: Type.Optional(Type.String()),
})

/** `GET /app-config`: the SDK's start check of an app's version against its client's policy. */
export function appConfigRoute(app: FastifyInstance, services: Services): void {
  app.get(
    '/app-config',
    { schema: { params: TenantParams, querystring: Query, response: { 200: Response } } },
    async (request) => {
      const query = request.query as { app_name: string; app_version: string; platform?: string }
      const client = await services.clients.find(request.tenant.id, query.app_name)
      if (!client) throw new AppError('not_found', `app "${query.app_name}" is not registered`)
      return appVersionStatus(client.appPolicy, query.app_version, query.platform)
    },
  )
}
