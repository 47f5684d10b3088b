import { type Static, Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { Services } from '../../domain/services.ts'
import { PageQuery, StrictObject, TenantParams } from '../../http/admin/admin-schemas.ts'
import { defined } from '../../http/admin/defined.ts'
import { PathText } from '../../http/schemas.ts'
import type { AppleSettingsInput, EnrollmentSSODocument, IdentityIssuance } from '../apple-settings.ts'
import { toPlistDict } from '../plist-values.ts'
import { type ApnsEnvironment, ApnsEnvironments } from '../push-notifier.ts'
import {
  AppleCommandView,
  AppleConfigView,
  AppleEnrollmentPageView,
  AppleEnrollmentView,
  appleCommandView,
  appleConfigView,
  appleEnrollmentView,
} from './views.ts'

const FamilyEnrollment = Type.Union([
  Type.Literal('mdm-byod'),
  Type.Literal('mdm-adde'),
  Type.Literal('none'),
])
/** Apple's keys, checked by the domain. */
const FreeObject = Type.Object({}, { additionalProperties: true })

const Identity = Type.Union([
  StrictObject({
    type: Type.Literal('pkcs12'),
    key_type: Type.Optional(Type.Union([Type.Literal('ec'), Type.Literal('rsa')])),
  }),
  StrictObject({ type: Type.Literal('scep'), payload: FreeObject }),
  StrictObject({ type: Type.Literal('acme'), payload: FreeObject }),
])

/** The whole configuration: what is left out takes its default. */
const AppleConfigBody = StrictObject({
  managed_domains: Type.Array(Type.String({ minLength: 1, maxLength: 253 }), { minItems: 1, maxItems: 100 }),
  enrollment_types: Type.Optional(Type.Record(Type.String({ maxLength: 32 }), FamilyEnrollment)),
  authentication_method: Type.Optional(
    Type.Union([Type.Literal('apple-as-web'), Type.Literal('apple-oauth2')]),
  ),
  client_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  apns_topic: Type.String({ minLength: 1, maxLength: 255 }),
  organization: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  access_rights: Type.Optional(Type.Integer()),
  enrollment_sso: Type.Optional(FreeObject),
  enrollment_sso_developer: Type.Optional(FreeObject),
  identity: Type.Optional(Identity),
  device_trust_anchors: Type.Optional(Type.Array(Type.String({ maxLength: 16384 }), { maxItems: 20 })),
})

/** Apple's MDM push certificate and its unencrypted private key, both PEM. */
const PushCertificateBody = StrictObject({
  certificate: Type.String({ minLength: 1, maxLength: 16384 }),
  private_key: Type.String({ minLength: 1, maxLength: 16384 }),
  environment: Type.Optional(Type.Unsafe<ApnsEnvironment>({ type: 'string', enum: [...ApnsEnvironments] })),
})

/** The certificate enrollment profiles are signed with, its intermediates after it, and its unencrypted key, PEM. */
const ProfileSigningBody = StrictObject({
  certificate: Type.String({ minLength: 1, maxLength: 65536 }),
  private_key: Type.String({ minLength: 1, maxLength: 16384 }),
})

const EnrollmentParams = Type.Object({
  tenant: TenantParams.properties.tenant,
  enrollment_id: PathText(64),
})

/** Apple's `Command` dictionary, `RequestType` first among its keys. */
const CommandBody = Type.Object(
  { RequestType: Type.String({ minLength: 1, maxLength: 128 }) },
  { additionalProperties: true },
)

const RevokedTokens = Type.Object({ enrollment_id: Type.String(), revoked: Type.Boolean() })

type Params = Static<typeof EnrollmentParams>

/** `/tenants/:tenant/apple`: the tenant's Apple configuration, its enrollments and their commands. */
export function appleAdminRoutes(app: FastifyInstance, services: Services): void {
  const view = (tenantId: string) => ({
    publicUrl: services.publicUrl,
    issuer: services.tokens.issuer(tenantId),
  })

  app.get<{ Params: Static<typeof TenantParams> }>(
    '/apple',
    { schema: { params: TenantParams, response: { 200: AppleConfigView } } },
    async (request) =>
      appleConfigView(await services.apple.configs.get(request.params.tenant), view(request.params.tenant)),
  )

  app.put<{ Params: Static<typeof TenantParams>; Body: Static<typeof AppleConfigBody> }>(
    '/apple',
    { schema: { params: TenantParams, body: AppleConfigBody, response: { 200: AppleConfigView } } },
    async (request) => {
      const config = await services.apple.configs.configure(
        request.params.tenant,
        appleSettingsFromWire(request.body),
      )
      return appleConfigView(config, view(request.params.tenant))
    },
  )

  app.put<{ Params: Static<typeof TenantParams>; Body: Static<typeof PushCertificateBody> }>(
    '/apple/push-certificate',
    { schema: { params: TenantParams, body: PushCertificateBody, response: { 200: AppleConfigView } } },
    async (request) => {
      const { certificate, private_key, environment } = request.body
      const config = await services.apple.configs.setPushCertificate(request.params.tenant, {
        certificatePEM: certificate,
        privateKeyPEM: private_key,
        environment: environment ?? 'production',
      })
      return appleConfigView(config, view(request.params.tenant))
    },
  )

  app.delete<{ Params: Static<typeof TenantParams> }>(
    '/apple/push-certificate',
    { schema: { params: TenantParams, response: { 200: AppleConfigView } } },
    async (request) =>
      appleConfigView(
        await services.apple.configs.removePushCertificate(request.params.tenant),
        view(request.params.tenant),
      ),
  )

  app.post<{ Params: Static<typeof TenantParams> }>(
    '/apple/device-ca/rotate',
    { schema: { params: TenantParams, response: { 200: AppleConfigView } } },
    async (request) =>
      appleConfigView(
        await services.apple.configs.rotateDeviceCA(request.params.tenant),
        view(request.params.tenant),
      ),
  )

  app.put<{ Params: Static<typeof TenantParams>; Body: Static<typeof ProfileSigningBody> }>(
    '/apple/profile-signing-certificate',
    { schema: { params: TenantParams, body: ProfileSigningBody, response: { 200: AppleConfigView } } },
    async (request) => {
      const config = await services.apple.configs.setProfileSigningCertificate(request.params.tenant, {
        certificatePEM: request.body.certificate,
        privateKeyPEM: request.body.private_key,
      })
      return appleConfigView(config, view(request.params.tenant))
    },
  )

  app.delete<{ Params: Static<typeof TenantParams> }>(
    '/apple/profile-signing-certificate',
    { schema: { params: TenantParams, response: { 200: AppleConfigView } } },
    async (request) =>
      appleConfigView(
        await services.apple.configs.removeProfileSigningCertificate(request.params.tenant),
        view(request.params.tenant),
      ),
  )

  app.get<{ Params: Static<typeof TenantParams>; Querystring: Static<typeof PageQuery> }>(
    '/apple/enrollments',
    {
      schema: {
        params: TenantParams,
        querystring: PageQuery,
        response: { 200: AppleEnrollmentPageView },
      },
    },
    async (request) => {
      const { profile_id, limit, after } = request.query
      const page = await services.apple.mdm.page(
        request.params.tenant,
        defined({ profileId: profile_id, after, limit: limit === undefined ? undefined : Number(limit) }),
      )
      return {
        enrollments: page.enrollments.map(appleEnrollmentView),
        ...(page.next !== undefined && { next: page.next }),
      }
    },
  )

  app.get<{ Params: Params }>(
    '/apple/enrollments/:enrollment_id',
    { schema: { params: EnrollmentParams, response: { 200: AppleEnrollmentView } } },
    async (request) =>
      appleEnrollmentView(
        await services.apple.mdm.getEnrollment(request.params.tenant, request.params.enrollment_id),
      ),
  )

  app.post<{ Params: Params }>(
    '/apple/enrollments/:enrollment_id/revoke-tokens',
    { schema: { params: EnrollmentParams, response: { 200: RevokedTokens } } },
    async (request) => {
      const { tenant, enrollment_id } = request.params
      const { revoked } = await services.apple.mdm.revokeTokens(tenant, enrollment_id)
      return { enrollment_id, revoked }
    },
  )

  app.post<{ Params: Params }>(
    '/apple/enrollments/:enrollment_id/renew-identity',
    { schema: { params: EnrollmentParams, response: { 201: AppleCommandView } } },
    async (request, reply) => {
      const { tenant, enrollment_id } = request.params
      const command = await services.apple.mdm.renewIdentity(tenant, enrollment_id, { log: request.log })
      return reply.code(201).send(appleCommandView(command))
    },
  )

  app.get<{ Params: Params }>(
    '/apple/enrollments/:enrollment_id/commands',
    {
      schema: {
        params: EnrollmentParams,
        response: { 200: Type.Object({ commands: Type.Array(AppleCommandView) }) },
      },
    },
    async (request) => ({
      commands: (await services.apple.mdm.commands(request.params.tenant, request.params.enrollment_id)).map(
        appleCommandView,
      ),
    }),
  )

  app.post<{ Params: Params; Body: Static<typeof CommandBody> }>(
    '/apple/enrollments/:enrollment_id/commands',
    { schema: { params: EnrollmentParams, body: CommandBody, response: { 201: AppleCommandView } } },
    async (request, reply) => {
      const command = await services.apple.mdm.enqueue(
        request.params.tenant,
        request.params.enrollment_id,
        toPlistDict(request.body, 'command'),
        { log: request.log },
      )
      return reply.code(201).send(appleCommandView(command))
    },
  )
}

/** The admin API's snake_case configuration as the domain's settings. */
export function appleSettingsFromWire(body: Static<typeof AppleConfigBody>): AppleSettingsInput {
  return {
    managedDomains: body.managed_domains,
    topic: body.apns_topic,
    ...defined({
      enrollmentTypes: body.enrollment_types,
      authenticationMethod: body.authentication_method,
      clientId: body.client_id,
      organization: body.organization,
      accessRights: body.access_rights,
      enrollmentSSO: body.enrollment_sso as EnrollmentSSODocument | undefined,
      enrollmentSSODeveloper: body.enrollment_sso_developer as EnrollmentSSODocument | undefined,
      identity: body.identity && identityFromWire(body.identity),
      deviceTrustAnchors: body.device_trust_anchors,
    }),
  }
}

function identityFromWire(identity: Static<typeof Identity>): IdentityIssuance {
  if (identity.type === 'pkcs12') return { type: 'pkcs12', keyType: identity.key_type ?? 'rsa' }
  return { type: identity.type, payload: toPlistDict(identity.payload, 'identity.payload') }
}

export type AppleConfigWire = Static<typeof AppleConfigBody>
