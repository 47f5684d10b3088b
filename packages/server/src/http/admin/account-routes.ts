import { type Static, Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { Services } from '../../domain/services.ts'
import { PathText } from '../schemas.ts'
import { NoContent, TenantParams } from './admin-schemas.ts'
import { AccountView, accountView, PasskeyPatch, PasskeyView, passkeyView } from './views.ts'

const ProfileParams = Type.Object({
  tenant: TenantParams.properties.tenant,
  profile_id: PathText(64),
})

const PasskeyParams = Type.Object({
  ...ProfileParams.properties,
  credential_id: PathText(1024),
})

/** An identity to look an account up by: `local` and an email, `passkey`, or `oidc:{name}`. */
const AccountQuery = Type.Object(
  {
    provider: Type.String({ minLength: 1, maxLength: 128, pattern: '^[a-z0-9:-]+$' }),
    subject: Type.String({ minLength: 1, maxLength: 512, pattern: '^[^\\u0000-\\u001f]+$' }),
  },
  { additionalProperties: false },
)

/**
 * `/tenants/:tenant/accounts`: people's accounts (profiles with identities and passkeys), by
 * profile id or by an identity; an administrator names a passkey, or removes a lost one, here.
 */
export function accountRoutes(app: FastifyInstance, services: Services): void {
  app.get<{ Params: Static<typeof TenantParams>; Querystring: Static<typeof AccountQuery> }>(
    '/accounts',
    { schema: { params: TenantParams, querystring: AccountQuery, response: { 200: AccountView } } },
    async (request) => {
      const { provider, subject } = request.query
      return accountView(await services.accounts.findByIdentity(request.params.tenant, provider, subject))
    },
  )

  app.get<{ Params: Static<typeof ProfileParams> }>(
    '/accounts/:profile_id',
    { schema: { params: ProfileParams, response: { 200: AccountView } } },
    async (request) =>
      accountView(await services.accounts.get(request.params.tenant, request.params.profile_id)),
  )

  app.patch<{ Params: Static<typeof PasskeyParams>; Body: Static<typeof PasskeyPatch> }>(
    '/accounts/:profile_id/passkeys/:credential_id',
    { schema: { params: PasskeyParams, body: PasskeyPatch, response: { 200: PasskeyView } } },
    async (request) => {
      const { tenant, profile_id, credential_id } = request.params
      const name = request.body.name ?? undefined
      return passkeyView(await services.accounts.renamePasskey(tenant, profile_id, credential_id, name))
    },
  )

  app.delete<{ Params: Static<typeof PasskeyParams> }>(
    '/accounts/:profile_id/passkeys/:credential_id',
    { schema: { params: PasskeyParams, response: { 204: NoContent } } },
    async (request, reply) => {
      const { tenant, profile_id, credential_id } = request.params
      await services.accounts.removePasskey(tenant, profile_id, credential_id)
      return reply.code(204).send()
    },
  )
}
