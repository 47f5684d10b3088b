import type {
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  onRequestHookHandler,
  RouteOptions,
} from 'fastify'
import fastifyPlugin from 'fastify-plugin'
import {
  defaultEncryptionJWKSPath,
  encryptionJWKSCacheControl,
  joseMediaType,
} from '../encryption/payload-encryption.ts'
import { responseKeyHeader } from '../encryption/response-key.ts'
import { isJOSE } from '../http/content-type.ts'
import { type CORSOptions, CORSPolicy, varyOn } from '../http/cors.ts'
import { parsePlaintext } from '../http/plaintext-body.ts'
import { ResourceError } from '../resource-error.ts'
import {
  type Authentication,
  createResourceVerifier,
  type ResourceVerifier,
  type ResourceVerifierOptions,
  type VerifiedAccess,
} from '../resource-verifier.ts'

/** Per route, in `config.onramp`: scopes on top of the plugin's, or `false` for an open route. */
export interface OnrampRouteOptions {
  scopes?: readonly string[]
}

interface IntegrationOptions {
  /** Where to serve the encryption JWKS (with `encryption`); `false` serves none. */
  encryptionJWKSPath?: string | false
  /** Answer CORS for these pages' origins, on every route of the plugin's scope. */
  cors?: CORSOptions
}

/** The verifier's options, or a verifier to share between registrations. */
export type OnrampFastifyOptions = (ResourceVerifierOptions | { verifier: ResourceVerifier }) &
  IntegrationOptions

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified access; `null` on routes with `config.onramp: false`. */
    onramp: VerifiedAccess
  }
  interface FastifyContextConfig {
    onramp?: OnrampRouteOptions | false
  }
}

const plugin: FastifyPluginAsync<OnrampFastifyOptions> = async (app, options) => {
  const verifier = 'verifier' in options ? options.verifier : createResourceVerifier(options)
  const authentications = new WeakMap<FastifyRequest, Authentication>()
  /** Requests the kit itself refused after authenticating them: their refusal is not encrypted. */
  const refused = new WeakSet<FastifyRequest>()

  app.decorateRequest('onramp', null as unknown as VerifiedAccess)
  if (options.cors) app.addHook('onRequest', corsHook(new CORSPolicy(options.cors)))

  function refuse(request: FastifyRequest, reply: FastifyReply, error: ResourceError): FastifyReply {
    refused.add(request)
    return reply
      .code(error.status)
      .headers({ ...error.headers, 'cache-control': 'no-store' })
      .type('application/json')
      .send(error.body)
  }

  function authenticateFor(requiredScopes: readonly string[]): onRequestHookHandler {
    return async function authenticate(request, reply) {
      try {
        const authentication = await verifier.authenticate({
          method: request.method,
          url: verifier.requestURL.url({
            origin: `${request.protocol}://${request.host}`,
            path: request.url,
            header: (name) => single(request.headers[name]),
          }),
          authorization: request.headers.authorization,
          dpop: single(request.headers.dpop),
          responseKey: single(request.headers[responseKeyHeader]),
          requiredScopes,
        })
        request.onramp = authentication.access
        authentications.set(request, authentication)
      } catch (error) {
        if (error instanceof ResourceError) return refuse(request, reply, error)
        throw error
      }
    }
  }

  // Before validation, so that route schemas validate the plaintext.
  async function decrypt(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const authentication = authentications.get(request)
    if (!authentication) return undefined
    const isEncrypted = isJOSE(request.headers['content-type']) && typeof request.body === 'string'
    try {
      const decrypted = await verifier.decryptBody(
        authentication,
        isEncrypted ? (request.body as string) : undefined,
      )
      if (decrypted) request.body = parsePlaintext(decrypted.contentType, decrypted.plaintext)
    } catch (error) {
      if (error instanceof ResourceError) return refuse(request, reply, error)
      throw error
    }
    return undefined
  }

  async function encrypt(request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
    const authentication = authentications.get(request)
    if (!authentication?.responseKey || refused.has(request) || payload === null || payload === undefined) {
      return payload
    }
    const plaintext = await bytesOf(payload)
    const contentType = String(reply.getHeader('content-type') ?? 'application/octet-stream')
    const jwe = await verifier.encryptBody(authentication, plaintext, contentType)
    if (jwe === undefined) return plaintext
    reply.header('content-type', joseMediaType)
    return jwe
  }

  if (verifier.hasEncryption) {
    if (!app.hasContentTypeParser(joseMediaType)) {
      app.addContentTypeParser(joseMediaType, { parseAs: 'string' }, (_request, body, done) =>
        done(null, body),
      )
    }
    const path = options.encryptionJWKSPath ?? defaultEncryptionJWKSPath
    if (path !== false) {
      app.get(path, { config: { onramp: false } }, async (_request, reply) => {
        reply.header('cache-control', encryptionJWKSCacheControl).type('application/jwk-set+json')
        return verifier.encryptionJWKS()
      })
    }
  }

  app.addHook('onRoute', (route: RouteOptions) => {
    const config = route.config?.onramp
    if (config === false) return
    route.onRequest = [authenticateFor(config?.scopes ?? []), ...hooks(route.onRequest)]
    if (verifier.hasEncryption) {
      route.preValidation = [decrypt, ...hooks(route.preValidation)]
      route.onSend = [...hooks(route.onSend), encrypt]
    }
  })
}

/**
 * Accepts Onramp access tokens on every route registered after it in its scope: `request.onramp`
 * holds the verified access; refusals answer with their challenge. See docs/resource-server.md.
 */
export const onrampResource = fastifyPlugin(plugin, { fastify: '5.x', name: '@onramp/resource' })

/**
 * Runs before the routes' own `onRequest` hooks, so before authentication: a preflight carries no
 * credentials and is answered here, and every other response, refusals included, carries the
 * CORS headers the page needs to read it.
 */
function corsHook(cors: CORSPolicy): onRequestHookHandler {
  return async function answerCORS(request, reply) {
    const origin = single(request.headers.origin)
    reply.header('vary', varyOn(reply.getHeader('vary')?.toString(), 'Origin'))
    if (cors.isPreflight(request.method, origin, single(request.headers['access-control-request-method']))) {
      return reply.code(204).headers(cors.preflightHeaders(origin)).send()
    }
    reply.headers(cors.responseHeaders(origin))
  }
}

function hooks<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return []
  return Array.isArray(value) ? value : [value]
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value
}

async function bytesOf(payload: unknown): Promise<Buffer> {
  if (typeof payload === 'string') return Buffer.from(payload)
  if (Buffer.isBuffer(payload)) return payload
  if (payload instanceof Uint8Array) return Buffer.from(payload)
  // A stream: read it whole rather than let any of it out in clear.
  const chunks: Buffer[] = []
  for await (const chunk of payload as AsyncIterable<Buffer | string>) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
  }
  return Buffer.concat(chunks)
}
