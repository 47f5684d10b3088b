import type { NextFunction, Request, RequestHandler, Response } from 'express'
import {
  defaultEncryptionJWKSPath,
  encryptionJWKSCacheControl,
  joseMediaType,
} from '../encryption/payload-encryption.ts'
import { responseKeyHeader } from '../encryption/response-key.ts'
import { isJOSE } from '../http/content-type.ts'
import { type CORSOptions, CORSPolicy } from '../http/cors.ts'
import { parsePlaintext } from '../http/plaintext-body.ts'
import { ResourceError } from '../resource-error.ts'
import {
  type Authentication,
  createResourceVerifier,
  type ResourceVerifier,
  type ResourceVerifierOptions,
  type VerifiedAccess,
} from '../resource-verifier.ts'

interface IntegrationOptions {
  /** Where `encryptionJWKS` serves the encryption keys; the default is `/.well-known/onramp-encryption-jwks`. */
  encryptionJWKSPath?: string
  /** Largest encrypted body read, bytes; 1 MiB by default. */
  bodyLimit?: number
  /** Answer CORS for these pages' origins: under the middleware's mount, and for `encryptionJWKS`. */
  cors?: CORSOptions
}

/** The verifier's options, or a verifier to share. */
export type OnrampExpressOptions = (ResourceVerifierOptions | { verifier: ResourceVerifier }) &
  IntegrationOptions

/** Authenticates (and decrypts), then sets `req.onramp`; refusals answer with their challenge. */
export interface OnrampExpressMiddleware extends RequestHandler {
  /** A route middleware after this one: 403 `insufficient_scope` unless the token has all `scopes`. */
  requireScopes(...scopes: string[]): RequestHandler
  /** Serves the encryption JWKS (with `encryption`), to mount where no token is required. */
  encryptionJWKS: RequestHandler
  verifier: ResourceVerifier
}

declare global {
  namespace Express {
    interface Request {
      /** Set by `onrampExpress`. */
      onramp?: VerifiedAccess
    }
  }
}

const defaultBodyLimit = 1024 * 1024

/** Express middleware that accepts Onramp access tokens. See docs/resource-server.md. */
export function onrampExpress(options: OnrampExpressOptions): OnrampExpressMiddleware {
  const verifier = 'verifier' in options ? options.verifier : createResourceVerifier(options)
  const bodyLimit = options.bodyLimit ?? defaultBodyLimit
  const jwksPath = options.encryptionJWKSPath ?? defaultEncryptionJWKSPath
  /** How the kit answers a refusal once `res.send` is wrapped for encryption: its refusals stay in clear. */
  const refusers = new WeakMap<Response, (error: ResourceError) => void>()
  const cors = options.cors ? new CORSPolicy(options.cors) : undefined

  /**
   * Before authentication: a preflight carries no credentials and is answered here (true); every
   * other response, refusals included, carries the CORS headers the page needs to read it.
   */
  function answerCORS(req: Request, res: Response): boolean {
    if (!cors) return false
    const origin = req.get('origin')
    res.vary('Origin')
    if (cors.isPreflight(req.method, origin, req.get('access-control-request-method'))) {
      res.status(204).set(cors.preflightHeaders(origin)).end()
      return true
    }
    res.set(cors.responseHeaders(origin))
    return false
  }

  async function handle(req: Request, res: Response): Promise<boolean> {
    const authentication = await verifier.authenticate({
      method: req.method,
      url: verifier.requestURL.url({
        origin: `${req.protocol}://${req.host}`,
        path: req.originalUrl,
        header: (name) => req.get(name),
      }),
      authorization: req.get('authorization'),
      dpop: req.get('dpop'),
      responseKey: req.get(responseKeyHeader),
    })
    const isEncrypted = verifier.hasEncryption && isJOSE(req.get('content-type'))
    const decrypted = await verifier.decryptBody(
      authentication,
      isEncrypted ? await readBody(req, bodyLimit) : undefined,
    )
    req.onramp = authentication.access
    if (decrypted) {
      req.headers['content-type'] = decrypted.contentType
      req.body = parsePlaintext(decrypted.contentType, decrypted.plaintext)
    }
    if (authentication.responseKey) encryptResponses(res, authentication)
    return true
  }

  function encryptResponses(res: Response, authentication: Authentication): void {
    const send = res.send.bind(res)
    const write = res.write.bind(res)
    const end = res.end.bind(res) as (...args: unknown[]) => Response
    let isSending = false
    refusers.set(res, (error) => {
      isSending = true
      res.status(error.status).set(error.headers).set('cache-control', 'no-store').type('application/json')
      // A string: an object would go through res.json, and so back through the encrypting res.send.
      send(JSON.stringify(error.body))
    })
    res.send = (body?: unknown): Response => {
      // Objects, numbers and booleans come back here as a JSON string through res.json.
      if (typeof body !== 'string' && !(body instanceof Uint8Array)) return send(body)
      const plaintext = typeof body === 'string' ? Buffer.from(body) : body
      const contentType =
        res.get('content-type') ??
        (typeof body === 'string' ? 'text/html; charset=utf-8' : 'application/octet-stream')
      verifier.encryptBody(authentication, plaintext, contentType).then(
        (jwe) => {
          isSending = true
          if (jwe === undefined) return send(body)
          res.set('content-type', joseMediaType)
          return send(Buffer.from(jwe))
        },
        (error: unknown) => res.destroy(error as Error),
      )
      return res
    }
    // Anything that bypasses res.send would leave in clear: refuse it.
    res.write = ((...args: Parameters<Response['write']>) => {
      if (!isSending) throw new Error('streamed responses cannot be encrypted: use res.send or res.json')
      return write(...args)
    }) as Response['write']
    res.end = ((...args: unknown[]) => {
      const hasChunk = args[0] !== undefined && typeof args[0] !== 'function'
      if (hasChunk && !isSending)
        throw new Error('responses must be sent with res.send or res.json to be encrypted')
      return end(...args)
    }) as Response['end']
  }

  function refuse(res: Response, error: ResourceError): void {
    const refuser = refusers.get(res)
    if (refuser) {
      refuser(error)
      return
    }
    res.status(error.status).set(error.headers).set('cache-control', 'no-store').json(error.body)
  }

  const middleware = ((req: Request, res: Response, next: NextFunction): void => {
    if (answerCORS(req, res)) return
    handle(req, res).then(
      () => next(),
      (error: unknown) => (error instanceof ResourceError ? refuse(res, error) : next(error)),
    )
  }) as OnrampExpressMiddleware

  middleware.requireScopes = (...scopes: string[]): RequestHandler => {
    return (req, res, next) => {
      if (!req.onramp) return next(new Error('onrampExpress must run before requireScopes'))
      try {
        verifier.requireScopes(req.onramp, scopes)
      } catch (error) {
        if (error instanceof ResourceError) return refuse(res, error)
        return next(error)
      }
      next()
    }
  }

  middleware.encryptionJWKS = (req, res, next) => {
    if (!verifier.hasEncryption || (req.method !== 'GET' && req.method !== 'HEAD') || req.path !== jwksPath) {
      return next()
    }
    answerCORS(req, res)
    res.set('cache-control', encryptionJWKSCacheControl).type('application/jwk-set+json')
    res.send(JSON.stringify(verifier.encryptionJWKS()))
  }
  middleware.verifier = verifier
  return middleware
}

/** The raw body as text, unless a parser before us already read it as text. */
async function readBody(req: Request, limit: number): Promise<string> {
  if (typeof req.body === 'string') return req.body
  if (Buffer.isBuffer(req.body)) return req.body.toString('latin1')
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > limit)
      throw Object.assign(new Error('request entity too large'), { status: 413, expose: true })
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('latin1')
}
