import { type Static, Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { Services } from '../../domain/services.ts'
import { TenantParams } from './admin-schemas.ts'
import { SigningKeyView, signingKeyView } from './views.ts'

const KeyList = Type.Object({ keys: Type.Array(SigningKeyView) })
const RotatedKeys = Type.Object({ kid: Type.String(), keys: Type.Array(SigningKeyView) })

type Params = Static<typeof TenantParams>

/** `/tenants/:tenant/keys`: the published signing keys, and rotation. */
export function keyRoutes(app: FastifyInstance, services: Services): void {
  app.get<{ Params: Params }>(
    '/keys',
    { schema: { params: TenantParams, response: { 200: KeyList } } },
    async (request) => ({ keys: (await services.keys.list(request.params.tenant)).map(signingKeyView) }),
  )

  /** Answers with the new key's `kid` and every key now published, the retired one included. */
  app.post<{ Params: Params }>(
    '/keys/rotate',
    { schema: { params: TenantParams, response: { 200: RotatedKeys } } },
    async (request) => {
      const kid = await services.tenants.rotateSigningKey(request.params.tenant)
      return { kid, keys: (await services.keys.list(request.params.tenant)).map(signingKeyView) }
    },
  )
}
