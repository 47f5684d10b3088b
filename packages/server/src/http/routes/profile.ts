import { type Static, Type } from '@sinclair/typebox'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AttributePreconditions } from '../../domain/profile-manager.ts'
import type { Services } from '../../domain/services.ts'
import { AppError } from '../../errors/app-error.ts'
import { OAuthError } from '../../errors/oauth-error.ts'
import { PasskeyPatch, PasskeyView, passkeyView } from '../admin/views.ts'
import { authenticateAccessToken } from '../protected-resource.ts'
import { PathText, TenantParams } from '../schemas.ts'

const read = 'attributes:read'
const write = 'attributes:write'
const accountRead = 'account:read'
const accountWrite = 'account:write'

const PasskeyParams = Type.Object({
  tenant: TenantParams.properties.tenant,
  credential_id: PathText(1024),
})

const PasskeyList = Type.Object({ passkeys: Type.Array(PasskeyView) })

/**
 * The subject's own profile (DESIGN §6): `GET /profile/attributes` (all, as one JSON object),
 * `GET`/`PUT`/`DELETE /profile/attributes/{name}` (the value is the body, any JSON) and
 * `DELETE /profile` (an anonymous subject deletes itself). Attribute responses carry a strong
 * `ETag`; `PUT` and `DELETE` honour `If-Match` and `If-None-Match`. A person also lists their
 * passkeys (`GET /profile/passkeys`), names one (`PATCH /profile/passkeys/{id}`) and removes one
 * (`DELETE /profile/passkeys/{id}`), never the last way their account signs in.
 */
export function profileRoutes(app: FastifyInstance, services: Services): void {
  app.register(async (scope) => {
    scope.setErrorHandler(rethrowBodyErrors)
    const options = { schema: { params: TenantParams } }

    scope.get('/profile/attributes', options, async (request, reply) => {
      const profileId = await authenticateSubject(request, services, read)
      const attributes = await services.profiles.listAttributes(request.tenant.id, profileId)
      // Values are stored as JSON text: the object is assembled, never parsed and re-serialized.
      const body = `{${attributes.map((a) => `${JSON.stringify(a.name)}:${a.json}`).join(',')}}`
      return sendJSON(reply, 200, body)
    })

    scope.get('/profile/attributes/*', options, async (request, reply) => {
      const profileId = await authenticateSubject(request, services, read)
      const attribute = await services.profiles.getAttribute(
        request.tenant.id,
        profileId,
        attributeName(request),
      )
      reply.header('etag', `"${attribute.version}"`)
      return sendJSON(reply, 200, attribute.json)
    })

    scope.put('/profile/attributes/*', options, async (request, reply) => {
      const profileId = await authenticateSubject(request, services, write)
      requireJSON(request)
      const { attribute, created } = await services.profiles.putAttribute(
        request.tenant.id,
        profileId,
        attributeName(request),
        request.body,
        preconditions(request),
      )
      return reply
        .code(created ? 201 : 204)
        .headers({ etag: `"${attribute.version}"`, 'cache-control': 'no-store' })
        .send()
    })

    scope.delete('/profile/attributes/*', options, async (request, reply) => {
      const profileId = await authenticateSubject(request, services, write)
      await services.profiles.deleteAttribute(
        request.tenant.id,
        profileId,
        attributeName(request),
        preconditions(request),
      )
      return reply.code(204).header('cache-control', 'no-store').send()
    })

    scope.get(
      '/profile/passkeys',
      { schema: { params: TenantParams, response: { 200: PasskeyList } } },
      async (request, reply) => {
        const profileId = await authenticateSubject(request, services, accountRead)
        const account = await services.accounts.get(request.tenant.id, profileId)
        reply.header('cache-control', 'no-store')
        return { passkeys: account.passkeys.map(passkeyView) }
      },
    )

    scope.patch<{ Params: Static<typeof PasskeyParams>; Body: Static<typeof PasskeyPatch> }>(
      '/profile/passkeys/:credential_id',
      { schema: { params: PasskeyParams, body: PasskeyPatch, response: { 200: PasskeyView } } },
      async (request, reply) => {
        const profileId = await authenticateSubject(request, services, accountWrite)
        requireJSON(request)
        const { credential_id } = request.params
        const name = request.body.name ?? undefined
        const passkey = await services.accounts.renamePasskey(
          request.tenant.id,
          profileId,
          credential_id,
          name,
        )
        reply.header('cache-control', 'no-store')
        return passkeyView(passkey)
      },
    )

    scope.delete<{ Params: Static<typeof PasskeyParams> }>(
      '/profile/passkeys/:credential_id',
      { schema: { params: PasskeyParams } },
      async (request, reply) => {
        const profileId = await authenticateSubject(request, services, accountWrite)
        await services.accounts.removePasskey(request.tenant.id, profileId, request.params.credential_id, {
          keepSignIn: true,
        })
        return reply.code(204).header('cache-control', 'no-store').send()
      },
    )

    // Any token of the subject will do: deleting oneself needs no scope a client must be granted.
    scope.delete('/profile', options, async (request, reply) => {
      const profileId = await authenticateSubject(request, services)
      const deleted = await services.profiles.deleteAnonymousProfile(request.tenant.id, profileId)
      request.log.info({ tenant: request.tenant.id, deleted }, 'anonymous profile deleted by its subject')
      return reply.code(204).header('cache-control', 'no-store').send()
    })
  })
}

/**
 * The profile the request's access token belongs to. Tokens of a grant (`sid`) name a profile as
 * `sub`; client-credentials tokens name a client, which has no profile.
 */
async function authenticateSubject(
  request: FastifyRequest,
  services: Services,
  scope?: string,
): Promise<string> {
  const { tenant } = request
  // The exact URL the client called (RFC 9449 `htu`), with the path as it was sent.
  const path = request.url.split('?')[0]!.replace(/^\/t\/[^/]+/, '')
  const claims = await authenticateAccessToken(request, services, tenant, {
    url: `${services.tokens.issuer(tenant.id)}${path}`,
    ...(scope && { scope }),
  })
  if (claims.sid === undefined)
    throw new AppError('forbidden', 'the token was issued to a client, not to a profile')
  return claims.sub
}

function attributeName(request: FastifyRequest): string {
  return (request.params as { '*': string })['*']
}

function sendJSON(reply: FastifyReply, status: number, json: string): FastifyReply {
  return reply
    .code(status)
    .headers({ 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
    .send(json)
}

/** The body was JSON: a form body, which the server also parses, is refused. */
function requireJSON(request: FastifyRequest): void {
  if (!/^application\/json\s*(;|$)/i.test(request.headers['content-type'] ?? ''))
    throw new AppError('unsupported_media_type', 'the body must be application/json')
}

function preconditions(request: FastifyRequest): AttributePreconditions {
  const ifMatch = entityTags(request.headers['if-match'], { weak: false })
  const ifNoneMatch = entityTags(request.headers['if-none-match'], { weak: true })
  return { ...(ifMatch && { ifMatch }), ...(ifNoneMatch && { ifNoneMatch }) }
}

/**
 * RFC 9110 §8.8.3: `*` or a list of entity tags. `If-Match` compares strongly (weak tags never
 * match); `If-None-Match` weakly.
 */
function entityTags(header: string | undefined, options: { weak: boolean }): '*' | string[] | undefined {
  if (header === undefined) return undefined
  if (header.trim() === '*') return '*'
  return [...header.matchAll(/(W\/)?"([\x21\x23-\x7e]*)"/g)]
    .filter((match) => options.weak || match[1] === undefined)
    .map((match) => match[2]!)
}

/**
 * Body problems Fastify finds before the handler runs (not JSON, too large, another media type)
 * get this API's error codes; everything else goes on to the server's error handler.
 */
function rethrowBodyErrors(error: FastifyError): never {
  if (error instanceof OAuthError || error instanceof AppError) throw error
  if (error.statusCode === 413) throw new AppError('payload_too_large', 'the body is too large')
  if (error.statusCode === 415)
    throw new AppError('unsupported_media_type', 'the body must be application/json')
  if (error.statusCode === 400) throw new AppError('invalid_input', error.message)
  throw error
}
