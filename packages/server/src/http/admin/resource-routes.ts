import { type Static, Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { ResourceUpdate } from '../../domain/resource-manager.ts'
import type { Services } from '../../domain/services.ts'
import type { ExchangePolicy } from '../../store/resource-store.ts'
import { PathText } from '../schemas.ts'
import {
  AuthenticationModeList,
  Name,
  NoContent,
  Scopes,
  Seconds,
  StrictObject,
  TenantParams,
} from './admin-schemas.ts'
import { defined } from './defined.ts'
import { ResourceView, resourceView } from './views.ts'

/**
 * The audience is the rest of the path, URL-encoded by the caller: audiences are often URLs, and
 * a wildcard is not held to the router's 100-character limit on parameters.
 */
const ResourceParams = Type.Object({
  tenant: TenantParams.properties.tenant,
  '*': PathText(512),
})

const MinACR = Type.String({ pattern: '^[0-9]{1,8}$' })

const CreateResourceBody = StrictObject({
  audience: Type.String({ minLength: 1, maxLength: 512 }),
  name: Type.Optional(Name),
  scopes: Type.Optional(Scopes),
  allowed_clients: Type.Optional(Type.Array(Type.String({ maxLength: 128 }), { maxItems: 1000 })),
  allow_anonymous: Type.Optional(Type.Boolean()),
  min_acr: Type.Optional(MinACR),
  authentication_modes: Type.Optional(AuthenticationModeList),
  access_token_ttl: Type.Optional(Seconds),
})

/** `null` removes an optional policy setting (or the resource's own token lifetime). */
const UpdateResourceBody = StrictObject({
  name: Type.Optional(Name),
  scopes: Type.Optional(Scopes),
  allowed_clients: Type.Optional(Type.Array(Type.String({ maxLength: 128 }), { maxItems: 1000 })),
  allow_anonymous: Type.Optional(Type.Boolean()),
  min_acr: Type.Optional(Type.Union([MinACR, Type.Null()])),
  authentication_modes: Type.Optional(Type.Union([AuthenticationModeList, Type.Null()])),
  access_token_ttl: Type.Optional(Type.Union([Seconds, Type.Null()])),
})

type Params = Static<typeof ResourceParams>

/** A resource's new secret, in the one response that carries it. */
const RotatedResourceSecret = Type.Object({ audience: Type.String(), secret: Type.String() })

/**
 * `/tenants/:tenant/resources`: backends that accept exchanged tokens, and who may get one;
 * `/tenants/:tenant/resource-secrets`: the secrets they introspect with.
 */
export function resourceRoutes(app: FastifyInstance, services: Services): void {
  app.get<{ Params: Static<typeof TenantParams> }>(
    '/resources',
    {
      schema: {
        params: TenantParams,
        response: { 200: Type.Object({ resources: Type.Array(ResourceView) }) },
      },
    },
    async (request) => ({
      resources: (await services.resources.list(request.params.tenant)).map(resourceView),
    }),
  )

  app.post<{ Params: Static<typeof TenantParams>; Body: Static<typeof CreateResourceBody> }>(
    '/resources',
    { schema: { params: TenantParams, body: CreateResourceBody, response: { 201: ResourceView } } },
    async (request, reply) => {
      const body = request.body
      const resource = await services.resources.create(request.params.tenant, {
        audience: body.audience,
        policy: defined({
          allowedClients: body.allowed_clients,
          allowAnonymous: body.allow_anonymous,
          minAcr: body.min_acr,
          authenticationModes: body.authentication_modes,
        }),
        ...defined({ name: body.name, scopes: body.scopes, accessTokenTtl: body.access_token_ttl }),
      })
      return reply.code(201).send(resourceView(resource))
    },
  )

  app.get<{ Params: Params }>(
    '/resources/*',
    { schema: { params: ResourceParams, response: { 200: ResourceView } } },
    async (request) => resourceView(await services.resources.get(request.params.tenant, request.params['*'])),
  )

  app.patch<{ Params: Params; Body: Static<typeof UpdateResourceBody> }>(
    '/resources/*',
    { schema: { params: ResourceParams, body: UpdateResourceBody, response: { 200: ResourceView } } },
    async (request) => {
      const body = request.body
      const update: ResourceUpdate = defined({ name: body.name, scopes: body.scopes })
      const policy: Partial<ExchangePolicy> = defined({
        allowedClients: body.allowed_clients,
        allowAnonymous: body.allow_anonymous,
      })
      if (body.min_acr !== undefined) policy.minAcr = body.min_acr ?? undefined
      if (body.authentication_modes !== undefined)
        policy.authenticationModes = body.authentication_modes ?? undefined
      if (Object.keys(policy).length > 0) update.policy = policy
      if (body.access_token_ttl !== undefined) update.accessTokenTtl = body.access_token_ttl ?? undefined
      const resource = await services.resources.update(request.params.tenant, request.params['*'], update)
      return resourceView(resource)
    },
  )

  app.delete<{ Params: Params }>(
    '/resources/*',
    { schema: { params: ResourceParams, response: { 204: NoContent } } },
    async (request, reply) => {
      await services.resources.delete(request.params.tenant, request.params['*'])
      return reply.code(204).send()
    },
  )

  // The secret a resource calls `/introspect` with: its own path, since the audience takes the
  // rest of the resource's. Shown once, at rotation.
  app.post<{ Params: Params }>(
    '/resource-secrets/*',
    { schema: { params: ResourceParams, response: { 200: RotatedResourceSecret } } },
    async (request) => {
      const { tenant, '*': audience } = request.params
      return { audience, secret: await services.resources.rotateSecret(tenant, audience) }
    },
  )

  app.delete<{ Params: Params }>(
    '/resource-secrets/*',
    { schema: { params: ResourceParams, response: { 204: NoContent } } },
    async (request, reply) => {
      await services.resources.removeSecret(request.params.tenant, request.params['*'])
      return reply.code(204).send()
    },
  )
}
