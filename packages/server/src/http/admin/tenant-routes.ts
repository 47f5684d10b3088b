import { type Static, Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { Services } from '../../domain/services.ts'
import type { TenantSettingsInput } from '../../domain/tenant-manager.ts'
import { maxUpstreamProviders } from '../../login/upstream-providers.ts'
import {
  attributeQuotaMaxima,
  loginLockoutMaxima,
  MergePolicies,
  type MergePolicy,
  type SigningAlgorithm,
  SigningAlgorithms,
} from '../../store/tenant-store.ts'
import { Name, NoContent, Seconds, StrictObject, TenantParams } from './admin-schemas.ts'
import { defined } from './defined.ts'
import { TenantView, tenantView } from './views.ts'

/** `client_secret` is write-only: sealed when stored, never in a response. */
const UpstreamProviderInput = StrictObject({
  name: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,31}$' }),
  issuer: Type.String({ minLength: 1, maxLength: 2048 }),
  client_id: Type.String({ minLength: 1, maxLength: 255 }),
  client_secret: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  scopes: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 20 })),
})

const SettingsInput = StrictObject({
  access_token_ttl: Type.Optional(Seconds),
  refresh_token_idle_ttl: Type.Optional(Seconds),
  refresh_token_absolute_ttl: Type.Optional(Seconds),
  dpop_nonce: Type.Optional(Type.Boolean()),
  offer_passkeys: Type.Optional(Type.Boolean()),
  anonymous_inactivity_days: Type.Optional(Type.Integer({ minimum: 1 })),
  merge_policy: Type.Optional(Type.Unsafe<MergePolicy>({ type: 'string', enum: [...MergePolicies] })),
  signing_alg: Type.Optional(Type.Unsafe<SigningAlgorithm>({ type: 'string', enum: [...SigningAlgorithms] })),
  attribute_quota: Type.Optional(
    StrictObject({
      max_value_bytes: Type.Integer({ minimum: 1, maximum: attributeQuotaMaxima.maxValueBytes }),
      max_count: Type.Integer({ minimum: 1, maximum: attributeQuotaMaxima.maxCount }),
      max_total_bytes: Type.Integer({ minimum: 1, maximum: attributeQuotaMaxima.maxTotalBytes }),
    }),
  ),
  login_lockout: Type.Optional(
    StrictObject({
      failures: Type.Integer({ minimum: 1, maximum: loginLockoutMaxima.failures }),
      window_seconds: Type.Integer({ minimum: 1, maximum: loginLockoutMaxima.windowSeconds }),
      lock_seconds: Type.Integer({ minimum: 1, maximum: loginLockoutMaxima.lockSeconds }),
    }),
  ),
  upstream_providers: Type.Optional(Type.Array(UpstreamProviderInput, { maxItems: maxUpstreamProviders })),
})

const CreateTenantBody = StrictObject({
  id: Type.String({ minLength: 1, maxLength: 63 }),
  name: Type.Optional(Name),
  settings: Type.Optional(SettingsInput),
})

const UpdateTenantBody = StrictObject({
  name: Type.Optional(Name),
  settings: Type.Optional(SettingsInput),
})

type Params = Static<typeof TenantParams>

/** `/tenants`: list, create, read, update, delete (deleting a tenant deletes everything in it). */
export function tenantRoutes(app: FastifyInstance, services: Services): void {
  app.get(
    '/tenants',
    { schema: { response: { 200: Type.Object({ tenants: Type.Array(TenantView) }) } } },
    async () => ({ tenants: (await services.tenants.list()).map(tenantView) }),
  )

  app.post<{ Body: Static<typeof CreateTenantBody> }>(
    '/tenants',
    { schema: { body: CreateTenantBody, response: { 201: TenantView } } },
    async (request, reply) => {
      const { id, name, settings } = request.body
      const tenant = await services.tenants.create({
        id,
        ...defined({ name, settings: settings && settingsFromWire(settings) }),
      })
      return reply.code(201).send(tenantView(tenant))
    },
  )

  app.get<{ Params: Params }>(
    '/tenants/:tenant',
    { schema: { params: TenantParams, response: { 200: TenantView } } },
    async (request) => tenantView(await services.tenants.get(request.params.tenant)),
  )

  app.patch<{ Params: Params; Body: Static<typeof UpdateTenantBody> }>(
    '/tenants/:tenant',
    { schema: { params: TenantParams, body: UpdateTenantBody, response: { 200: TenantView } } },
    async (request) => {
      const { name, settings } = request.body
      const tenant = await services.tenants.update(
        request.params.tenant,
        defined({ name, settings: settings && settingsFromWire(settings) }),
      )
      return tenantView(tenant)
    },
  )

  app.delete<{ Params: Params }>(
    '/tenants/:tenant',
    { schema: { params: TenantParams, response: { 204: NoContent } } },
    async (request, reply) => {
      await services.tenants.delete(request.params.tenant)
      return reply.code(204).send()
    },
  )
}

function settingsFromWire(settings: Static<typeof SettingsInput>): Partial<TenantSettingsInput> {
  return defined({
    accessTokenTtl: settings.access_token_ttl,
    refreshTokenIdleTtl: settings.refresh_token_idle_ttl,
    refreshTokenAbsoluteTtl: settings.refresh_token_absolute_ttl,
    dpopNonce: settings.dpop_nonce,
    offerPasskeys: settings.offer_passkeys,
    anonymousInactivityDays: settings.anonymous_inactivity_days,
    mergePolicy: settings.merge_policy,
    signingAlg: settings.signing_alg,
    attributeQuota: settings.attribute_quota && {
      maxValueBytes: settings.attribute_quota.max_value_bytes,
      maxCount: settings.attribute_quota.max_count,
      maxTotalBytes: settings.attribute_quota.max_total_bytes,
    },
    loginLockout: settings.login_lockout && {
      failures: settings.login_lockout.failures,
      windowSeconds: settings.login_lockout.window_seconds,
      lockSeconds: settings.login_lockout.lock_seconds,
    },
    upstreamProviders: settings.upstream_providers?.map((provider) => ({
      name: provider.name,
      issuer: provider.issuer,
      clientId: provider.client_id,
      ...defined({ clientSecret: provider.client_secret, scopes: provider.scopes }),
    })),
  })
}
