import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type OnrampExpressMiddleware, onrampExpress } from '@onramp/resource'
import express from 'express'

export interface SampleResourceOptions {
  issuer: string
  audience: string
  /** Require DPoP nonces of this backend (`use_dpop_nonce` on the first call). */
  dpopNonce?: boolean
  /** Offer end-to-end payload encryption. */
  encryption?: boolean
  /** Seconds of clock skew accepted for `exp` and the proof's `iat`; the kit's default (5) otherwise. */
  clockTolerance?: number
  /** A web page's origin allowed to call the backend (the kit's `cors`), for the browser tests. */
  corsOrigin?: string
}

/** How a request the backend accepted was authorised. */
export interface Access {
  path: string
  scheme: 'Bearer' | 'DPoP'
  /** The thumbprint of the key the token is bound to (`cnf.jkt`). */
  jkt: string | undefined
}

export interface SampleResource {
  /** `http://127.0.0.1:{port}` */
  origin: string
  /** Requests by path (the encryption JWKS and CORS preflights included). */
  requests: Map<string, number>
  /** The requests it accepted, in order. */
  accesses: Access[]
  /** Replaces the encryption key without keeping the old one: encrypted bodies to it get a 400. */
  rotateEncryptionKey(): Promise<void>
  close(): Promise<void>
}

const encryptionJWKSPath = '/.well-known/onramp-encryption-jwks'

/**
 * A backend for the SDK's end-to-end tests: Express with `@onramp/resource`'s middleware, which
 * verifies the token, the DPoP proof (`ath`, `htm`, `htu`, `cnf.jkt`, and `ebh`/`rkt` with
 * encryption) and answers CORS for `corsOrigin`. Every route answers
 * `{sub, method, path, contentType, body}` of what it received, encrypted when asked.
 */
export async function startSampleResource(options: SampleResourceOptions): Promise<SampleResource> {
  const requests = new Map<string, number>()
  const accesses: Access[] = []
  const makeMiddleware = async (): Promise<OnrampExpressMiddleware> =>
    onrampExpress({
      issuer: options.issuer,
      audience: options.audience,
      ...(options.clockTolerance !== undefined && { clockTolerance: options.clockTolerance }),
      ...(options.dpopNonce && { dpopNonce: { secret: crypto.getRandomValues(new Uint8Array(32)) } }),
      ...(options.encryption && {
        encryption: { privateKey: await encryptionKey(), kid: crypto.randomUUID() },
      }),
      ...(options.corsOrigin !== undefined && { cors: { origins: [options.corsOrigin] } }),
    })
  let onramp = await makeMiddleware()

  const app = express()
  app.use((req, _res, next) => {
    requests.set(req.path, (requests.get(req.path) ?? 0) + 1)
    next()
  })
  app.use((req, res, next) => onramp.encryptionJWKS(req, res, next))
  app.get(encryptionJWKSPath, (_req, res) => {
    res.status(404).end()
  })
  app.use((req, res, next) => onramp(req, res, next))
  // Bodies that came in clear, as text; the middleware has parsed the encrypted ones already.
  app.use(express.text({ type: () => true }))
  app.use((req, res) => {
    const access = req.onramp!
    accesses.push({ path: req.path, scheme: access.scheme, jkt: access.jkt })
    res.json({
      sub: access.claims.sub,
      method: req.method,
      path: req.path,
      contentType: req.get('content-type') ?? null,
      body: textOf(req.body),
    })
  })

  const server = await new Promise<Server>((resolve) => {
    const listening: Server = app.listen(0, '127.0.0.1', () => resolve(listening))
  })
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    accesses,
    rotateEncryptionKey: async () => {
      onramp = await makeMiddleware()
    },
    close: () => {
      server.closeAllConnections()
      return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())))
    },
  }
}

/** The body as the client sent it: decrypted JSON comes parsed, and goes back to text. */
function textOf(body: unknown): string | undefined {
  if (body === undefined || typeof body === 'string') return body
  if (Buffer.isBuffer(body)) return body.toString('utf8')
  return JSON.stringify(body)
}

async function encryptionKey(): Promise<JsonWebKey> {
  const pair = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits'])
  return crypto.subtle.exportKey('jwk', pair.privateKey)
}
