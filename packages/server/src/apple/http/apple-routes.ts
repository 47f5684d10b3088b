import { type Static, Type } from '@sinclair/typebox'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Services } from '../../domain/services.ts'
import { AppError } from '../../errors/app-error.ts'
import { PathText, TenantParams } from '../../http/schemas.ts'
import { resolveTenant } from '../../http/tenant-context.ts'
import { AppleAuthenticationRequired, DiscoveryRejected } from '../apple-errors.ts'
import type { EnrollmentType } from '../apple-settings.ts'
import { wwwAuthenticate } from '../challenge.ts'
import { buildPlist } from '../plist-values.ts'

/**
 * The media types of the device's signed first request: devices send
 * `application/pkcs7-signature`; Apple's own examples show `application/xml` and
 * `application/x-www-form-urlencoded` for the same body.
 */
const enrollmentTypes = [
  'application/pkcs7-signature',
  'application/x-pkcs7-signature',
  'application/pkcs7-mime',
  'application/x-pkcs7-mime',
  'application/octet-stream',
  'application/xml',
  'text/xml',
  'application/x-www-form-urlencoded',
]
/** Check-in and server URL messages: Apple's types, and plain XML. */
const checkInTypes = ['application/x-apple-aspen-mdm-checkin', 'application/xml', 'text/xml']
const serverTypes = ['application/x-apple-aspen-mdm', 'application/xml', 'text/xml']

const WellKnownQuery = Type.Object({
  'user-identifier': Type.Optional(Type.String({ maxLength: 320 })),
  'model-family': Type.Optional(Type.String({ maxLength: 64 })),
})

const WellKnownAnswer = Type.Object({
  Servers: Type.Array(Type.Object({ Version: Type.String(), BaseURL: Type.String() }), {
    minItems: 1,
    maxItems: 1,
  }),
})

/** Apple's `com.apple.well-known.failed` body. */
const WellKnownFailed = Type.Object({
  code: Type.Literal('com.apple.well-known.failed'),
  description: Type.String(),
  message: Type.String(),
})

const EnrollParams = Type.Object({
  tenant: TenantParams.properties.tenant,
  type: Type.Union([Type.Literal('byod'), Type.Literal('adde')]),
})

const EnrollmentParams = Type.Object({
  tenant: TenantParams.properties.tenant,
  enrollment: PathText(64),
})

const LoginQuery = Type.Object({ 'user-identifier': Type.String({ minLength: 3, maxLength: 320 }) })

const CallbackQuery = Type.Object({
  code: Type.Optional(Type.String({ maxLength: 512 })),
  state: Type.Optional(Type.String({ maxLength: 128 })),
  error: Type.Optional(Type.String({ maxLength: 128 })),
  error_description: Type.Optional(Type.String({ maxLength: 1024 })),
  iss: Type.Optional(Type.String({ maxLength: 512 })),
})

/**
 * Apple account-driven enrollment over HTTP: service discovery on the host root, and under
 * `/t/{tenant}/apple` the enrollment URL, the simple method's sign-in hand-over, the Enrollment
 * SSO documents, and each enrollment's check-in and server URLs. Bodies are read raw, whatever
 * their media type, and each route says which types it takes.
 */
export function appleRoutes(app: FastifyInstance, services: Services): void {
  app.register(async (root) => wellKnownRoute(root, services))
  app.register(
    async (apple) => {
      resolveTenant(apple, services)
      apple.removeAllContentTypeParsers()
      apple.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body))
      apple.setErrorHandler(answerChallenges)
      apple.addHook('onSend', async (_request, reply) => {
        reply.header('cache-control', 'no-store')
      })
      enrollmentRoutes(apple, services)
      signInRoutes(apple, services)
      mdmRoutes(apple, services)
    },
    { prefix: '/t/:tenant/apple' },
  )
}

/** `GET /.well-known/com.apple.remotemanagement?user-identifier=…&model-family=…`. */
function wellKnownRoute(app: FastifyInstance, services: Services): void {
  app.get<{ Querystring: Static<typeof WellKnownQuery> }>(
    '/.well-known/com.apple.remotemanagement',
    { schema: { querystring: WellKnownQuery, response: { 200: WellKnownAnswer, 403: WellKnownFailed } } },
    async (request, reply) => {
      reply.header('cache-control', 'no-store')
      try {
        return await services.apple.enrollments.discover({
          userIdentifier: request.query['user-identifier'],
          modelFamily: request.query['model-family'],
        })
      } catch (error) {
        if (!(error instanceof DiscoveryRejected)) throw error
        const failed = {
          code: 'com.apple.well-known.failed',
          description: error.description,
          message: error.message,
        }
        // Apple takes this document as JSON or as an XML property list, named by Content-Type.
        if (prefersPlist(request))
          return reply
            .code(403)
            .type('application/xml')
            .serializer((body) => body as string)
            .send(buildPlist(failed))
        return reply.code(403).send(failed)
      }
    },
  )
}

function enrollmentRoutes(app: FastifyInstance, services: Services): void {
  app.post<{ Params: Static<typeof EnrollParams> }>(
    '/enroll/:type',
    { schema: { params: EnrollParams } },
    async (request, reply) => {
      const type: EnrollmentType = request.params.type === 'byod' ? 'mdm-byod' : 'mdm-adde'
      const { profile } = await services.apple.enrollments.enroll(request.tenant, type, {
        body: rawBody(request, enrollmentTypes),
        authorization: request.headers.authorization,
      })
      return reply.type('application/x-apple-aspen-config').send(profile)
    },
  )

  for (const [path, developer] of [
    ['/enrollment-sso', false],
    ['/enrollment-sso-developer', true],
  ] as const) {
    app.get(path, { schema: { params: TenantParams } }, async (request) => {
      const { settings } = await services.apple.enrollments.config(request.tenant)
      const document = developer ? settings.enrollmentSSODeveloper : settings.enrollmentSSO
      if (!document) throw new AppError('not_found', 'this tenant has no such Enrollment SSO document')
      return document
    })
  }
}

/** The simple method's sign-in: the page the challenge names, and the hosted login's callback. */
function signInRoutes(app: FastifyInstance, services: Services): void {
  app.get<{ Querystring: Static<typeof LoginQuery> }>(
    '/login',
    { schema: { params: TenantParams, querystring: LoginQuery } },
    async (request, reply) => {
      const location = await services.apple.signIn.start(request.tenant, request.query['user-identifier'])
      return reply.redirect(location, 303)
    },
  )

  app.get<{ Querystring: Static<typeof CallbackQuery> }>(
    '/login/callback',
    { schema: { params: TenantParams, querystring: CallbackQuery } },
    async (request, reply) => {
      const { code, state, error } = request.query
      const location = await services.apple.signIn.finish(request.tenant, { code, state, error })
      // Apple: the web authentication ends with a 308 to the callback scheme.
      return reply.redirect(location, 308)
    },
  )
}

/** Each enrollment's check-in URL and server URL; devices use PUT, POST is taken as well. */
function mdmRoutes(app: FastifyInstance, services: Services): void {
  app.route<{ Params: Static<typeof EnrollmentParams> }>({
    method: ['PUT', 'POST'],
    url: '/mdm/:enrollment/checkin',
    schema: { params: EnrollmentParams },
    handler: async (request, reply) => {
      const answer = await services.apple.mdm.checkIn(request.tenant, request.params.enrollment, {
        body: rawBody(request, checkInTypes),
        authorization: request.headers.authorization,
        signature: mdmSignature(request),
      })
      return reply.code(answer.status).send()
    },
  })

  app.route<{ Params: Static<typeof EnrollmentParams> }>({
    method: ['PUT', 'POST'],
    url: '/mdm/:enrollment/connect',
    schema: { params: EnrollmentParams },
    handler: async (request, reply) => {
      const command = await services.apple.mdm.connect(request.tenant, request.params.enrollment, {
        body: rawBody(request, serverTypes),
        authorization: request.headers.authorization,
        signature: mdmSignature(request),
      })
      return command === undefined ? reply.send() : reply.type('application/xml').send(command)
    },
  })
}

/** The `Mdm-Signature` header; Node joins repeated ones into a value that is not Base64. */
function mdmSignature(request: FastifyRequest): string | undefined {
  const value = request.headers['mdm-signature']
  return typeof value === 'string' ? value : undefined
}

/** The request body as bytes, if its media type is one the route takes. */
function rawBody(request: FastifyRequest, types: readonly string[]): Uint8Array {
  const type = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase()
  if (type === undefined || !types.includes(type))
    throw new AppError('unsupported_media_type', `the body must be one of ${types.join(', ')}`)
  if (!Buffer.isBuffer(request.body) || request.body.length === 0)
    throw new AppError('invalid_input', 'the request has no body')
  return request.body
}

function prefersPlist(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? ''
  return /xml/i.test(accept) && !/json/i.test(accept)
}

/**
 * 401 with Apple's challenge, and the Enrollment SSO headers when there are documents; the body
 * is empty, as in Apple's examples. Other errors go on to the server's error handler.
 */
function answerChallenges(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (!(error instanceof AppleAuthenticationRequired)) throw error
  reply.code(401).header('www-authenticate', wwwAuthenticate(error.challenge))
  if (error.enrollmentSSO.url) reply.header('x-apple-mdm-esso', error.enrollmentSSO.url)
  if (error.enrollmentSSO.developerURL)
    reply.header('x-apple-mdm-esso-developer', error.enrollmentSSO.developerURL)
  return reply.send()
}
