import { type Static, Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { Services } from '../../domain/services.ts'
import { PathText } from '../schemas.ts'
import { PageQuery, TenantParams } from './admin-schemas.ts'
import { defined } from './defined.ts'
import { DevicePageView, DeviceView, devicePageView, deviceView } from './views.ts'

const DeviceParams = Type.Object({
  tenant: TenantParams.properties.tenant,
  device_id: PathText(64),
})

const RevokedDevice = Type.Object({ device_id: Type.String(), grants_revoked: Type.Integer() })

type Params = Static<typeof DeviceParams>

/** `/tenants/:tenant/devices`: enrolled devices, page by page; revoking one ends all its tokens. */
export function deviceRoutes(app: FastifyInstance, services: Services): void {
  app.get<{ Params: Static<typeof TenantParams>; Querystring: Static<typeof PageQuery> }>(
    '/devices',
    { schema: { params: TenantParams, querystring: PageQuery, response: { 200: DevicePageView } } },
    async (request) => {
      const { profile_id, limit, after } = request.query
      const page = await services.devices.page(
        request.params.tenant,
        defined({ profileId: profile_id, after, limit: limit === undefined ? undefined : Number(limit) }),
      )
      return devicePageView(page)
    },
  )

  app.get<{ Params: Params }>(
    '/devices/:device_id',
    { schema: { params: DeviceParams, response: { 200: DeviceView } } },
    async (request) =>
      deviceView(await services.devices.get(request.params.tenant, request.params.device_id)),
  )

  app.post<{ Params: Params }>(
    '/devices/:device_id/revoke',
    { schema: { params: DeviceParams, response: { 200: RevokedDevice } } },
    async (request) => {
      const { tenant, device_id } = request.params
      const { grantsRevoked } = await services.devices.revoke(tenant, device_id)
      return { device_id, grants_revoked: grantsRevoked }
    },
  )
}
