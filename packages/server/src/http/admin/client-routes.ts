import { type Static, Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { ClientUpdate } from '../../domain/client-manager.ts'
import type { Services } from '../../domain/services.ts'
import type { AppVersionPolicy } from '../../store/client-store.ts'
import { PathText } from '../schemas.ts'
import { AppPolicyInput, Name, NoContent, Scopes, StrictObject, TenantParams } from './admin-schemas.ts'
import { defined } from './defined.ts'
import { ClientView, clientView } from './views.ts'

const ClientParams = Type.Object({
  tenant: TenantParams.properties.tenant,
  client_id: PathText(128),
})

const GrantTypes = Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 10 })
const RedirectURIs = Type.Array(Type.String({ minLength: 1, maxLength: 2048 }), { maxItems: 20 })
const WebOrigins = Type.Array(Type.String({ minLength: 1, maxLength: 512 }), { maxItems: 20 })

const CreateClientBody = StrictObject({
  client_id: ClientParams.properties.client_id,
  name: Type.Optional(Name),
  type: Type.Unsafe<'public' | 'confidential'>({ type: 'string', enum: ['public', 'confidential'] }),
  grant_types: Type.Optional(GrantTypes),
  scopes: Type.Optional(Scopes),
  redirect_uris: Type.Optional(RedirectURIs),
  web_origins: Type.Optional(WebOrigins),
  app_policy: Type.Optional(AppPolicyInput),
  pkce_required: Type.Optional(Type.Boolean()),
})

const UpdateClientBody = StrictObject({
  name: Type.Optional(Name),
  grant_types: Type.Optional(GrantTypes),
  scopes: Type.Optional(Scopes),
  redirect_uris: Type.Optional(RedirectURIs),
  web_origins: Type.Optional(WebOrigins),
  /** `null` removes the policy. */
  app_policy: Type.Optional(Type.Union([AppPolicyInput, Type.Null()])),
  pkce_required: Type.Optional(Type.Boolean()),
})

/** A confidential client's secret, in the one response that carries it. */
const CreatedClient = Type.Composite([
  ClientView,
  Type.Object({ client_secret: Type.Optional(Type.String()) }),
])
const RotatedSecret = Type.Object({ client_id: Type.String(), client_secret: Type.String() })

type Params = Static<typeof ClientParams>

/** `/tenants/:tenant/clients`; secrets are shown once, at creation and rotation, and never again. */
export function clientRoutes(app: FastifyInstance, services: Services): void {
  app.get<{ Params: Static<typeof TenantParams> }>(
    '/clients',
    {
      schema: {
        params: TenantParams,
        response: { 200: Type.Object({ clients: Type.Array(ClientView) }) },
      },
    },
    async (request) => ({ clients: (await services.clients.list(request.params.tenant)).map(clientView) }),
  )

  app.post<{ Params: Static<typeof TenantParams>; Body: Static<typeof CreateClientBody> }>(
    '/clients',
    { schema: { params: TenantParams, body: CreateClientBody, response: { 201: CreatedClient } } },
    async (request, reply) => {
      const body = request.body
      const { client, clientSecret } = await services.clients.create(request.params.tenant, {
        clientId: body.client_id,
        type: body.type,
        ...defined({
          name: body.name,
          grantTypes: body.grant_types,
          scopes: body.scopes,
          redirectUris: body.redirect_uris,
          webOrigins: body.web_origins,
          appPolicy: body.app_policy && appPolicyFromWire(body.app_policy),
          pkceRequired: body.pkce_required,
        }),
      })
      return reply
        .code(201)
        .send({ ...clientView(client), ...(clientSecret !== undefined && { client_secret: clientSecret }) })
    },
  )

  app.get<{ Params: Params }>(
    '/clients/:client_id',
    { schema: { params: ClientParams, response: { 200: ClientView } } },
    async (request) =>
      clientView(await services.clients.get(request.params.tenant, request.params.client_id)),
  )

  app.patch<{ Params: Params; Body: Static<typeof UpdateClientBody> }>(
    '/clients/:client_id',
    { schema: { params: ClientParams, body: UpdateClientBody, response: { 200: ClientView } } },
    async (request) => {
      const body = request.body
      const update: ClientUpdate = defined({
        name: body.name,
        grantTypes: body.grant_types,
        scopes: body.scopes,
        redirectUris: body.redirect_uris,
        webOrigins: body.web_origins,
        pkceRequired: body.pkce_required,
      })
      if (body.app_policy !== undefined)
        update.appPolicy = body.app_policy === null ? undefined : appPolicyFromWire(body.app_policy)
      return clientView(
        await services.clients.update(request.params.tenant, request.params.client_id, update),
      )
    },
  )

  app.delete<{ Params: Params }>(
    '/clients/:client_id',
    { schema: { params: ClientParams, response: { 204: NoContent } } },
    async (request, reply) => {
      await services.clients.delete(request.params.tenant, request.params.client_id)
      return reply.code(204).send()
    },
  )

  app.post<{ Params: Params }>(
    '/clients/:client_id/secret',
    { schema: { params: ClientParams, response: { 200: RotatedSecret } } },
    async (request) => {
      const { tenant, client_id } = request.params
      return { client_id, client_secret: await services.clients.rotateSecret(tenant, client_id) }
    },
  )
}

function appPolicyFromWire(policy: Static<typeof AppPolicyInput>): AppVersionPolicy {
  return defined({
    minVersion: policy.min_version,
    latestVersion: policy.latest_version,
    platforms:
      policy.platforms &&
      Object.fromEntries(
        Object.entries(policy.platforms).map(([platform, range]) => [
          platform,
          defined({ minVersion: range.min_version, latestVersion: range.latest_version }),
        ]),
      ),
  })
}
