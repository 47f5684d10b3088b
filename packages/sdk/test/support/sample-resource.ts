import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createResourceVerifier, ResourceError, type ResourceVerifier } from '@onramp/resource'

export interface SampleResourceOptions {
  issuer: string
  audience: string
  /** Require DPoP nonces of this backend (`use_dpop_nonce` on the first call). */
  dpopNonce?: boolean
  /** Offer end-to-end payload encryption. */
  encryption?: boolean
  /** Seconds of clock skew accepted for `exp` and the proof's `iat`; the kit's default (5) otherwise. */
  clockTolerance?: number
  /** A web page's origin allowed to call the backend (CORS), for the browser tests. */
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
  /** Requests by path (the encryption JWKS included). */
  requests: Map<string, number>
  /** The requests it accepted, in order. */
  accesses: Access[]
  /** Replaces the encryption key without keeping the old one: encrypted bodies to it get a 400. */
  rotateEncryptionKey(): Promise<void>
  close(): Promise<void>
}

/**
 * A backend for the SDK's end-to-end tests, built on `@onramp/resource`: it verifies the token,
 * the DPoP proof (`ath`, `htm`, `htu`, `cnf.jkt`, and `ebh`/`rkt` with encryption) and answers
 * `{sub, method, path, contentType, body}` of what it received, encrypted when asked.
 */
export async function startSampleResource(options: SampleResourceOptions): Promise<SampleResource> {
  const requests = new Map<string, number>()
  const accesses: Access[] = []
  let verifier: ResourceVerifier
  const makeVerifier = async (): Promise<ResourceVerifier> =>
    createResourceVerifier({
      issuer: options.issuer,
      audience: options.audience,
      ...(options.clockTolerance !== undefined && { clockTolerance: options.clockTolerance }),
      ...(options.dpopNonce && { dpopNonce: { secret: crypto.getRandomValues(new Uint8Array(32)) } }),
      ...(options.encryption && {
        encryption: { privateKey: await encryptionKey(), kid: crypto.randomUUID() },
      }),
    })
  verifier = await makeVerifier()

  const server = createServer((incoming, outgoing) => {
    const path = (incoming.url ?? '/').split('?')[0]!
    requests.set(path, (requests.get(path) ?? 0) + 1)
    if (options.corsOrigin !== undefined && incoming.headers.origin === options.corsOrigin) {
      allowOrigin(outgoing, options.corsOrigin)
      if (incoming.method === 'OPTIONS' && incoming.headers['access-control-request-method']) {
        outgoing.writeHead(204, preflightHeaders).end()
        return
      }
    }
    handle(toRequest(incoming, origin)).then(
      (response) => send(response, outgoing),
      (error: unknown) => outgoing.writeHead(500).end(String(error)),
    )
  })

  async function handle(request: Request): Promise<Response> {
    if (new URL(request.url).pathname === '/.well-known/onramp-encryption-jwks') {
      if (!verifier.hasEncryption) return new Response(null, { status: 404 })
      return Response.json(verifier.encryptionJWKS(), { headers: { 'cache-control': 'public, max-age=300' } })
    }
    try {
      const verified = await verifier.verifyRequest(request)
      const body = verified.request.body === null ? undefined : await verified.request.text()
      const { scheme, jkt } = verified.access
      accesses.push({ path: new URL(request.url).pathname, scheme, jkt })
      const response = Response.json({
        sub: verified.access.claims.sub,
        method: request.method,
        path: new URL(request.url).pathname,
        contentType: verified.request.headers.get('content-type'),
        body,
      })
      return await verified.encryptResponse(response)
    } catch (error) {
      if (error instanceof ResourceError) return error.toResponse()
      throw error
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    origin,
    requests,
    accesses,
    rotateEncryptionKey: async () => {
      verifier = await makeVerifier()
    },
    close: () => {
      server.closeAllConnections()
      return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())))
    },
  }
}

/** What a page may send and read: the DPoP scheme's headers and the encryption's response key. */
const preflightHeaders = {
  'access-control-allow-methods': 'GET, POST, PUT, PATCH, DELETE',
  'access-control-allow-headers': 'authorization, dpop, content-type, onramp-response-key',
  'access-control-max-age': '600',
}

function allowOrigin(outgoing: ServerResponse, origin: string): void {
  outgoing.setHeader('access-control-allow-origin', origin)
  outgoing.setHeader('access-control-expose-headers', 'www-authenticate, dpop-nonce')
  outgoing.setHeader('vary', 'origin')
}

async function encryptionKey(): Promise<JsonWebKey> {
  const pair = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits'])
  return crypto.subtle.exportKey('jwk', pair.privateKey)
}

function toRequest(incoming: IncomingMessage, origin: string): Request {
  const headers = new Headers()
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (typeof value === 'string') headers.set(name, value)
    else if (Array.isArray(value)) for (const v of value) headers.append(name, v)
  }
  const hasBody = incoming.method !== 'GET' && incoming.method !== 'HEAD'
  return new Request(`${origin}${incoming.url}`, {
    method: incoming.method,
    headers,
    ...(hasBody && {
      body: new ReadableStream({
        start(controller) {
          incoming.on('data', (chunk: Buffer) => controller.enqueue(new Uint8Array(chunk)))
          incoming.on('end', () => controller.close())
          incoming.on('error', (error) => controller.error(error))
        },
      }),
      duplex: 'half',
    }),
  } as RequestInit)
}

async function send(response: Response, outgoing: ServerResponse): Promise<void> {
  const body = new Uint8Array(await response.arrayBuffer())
  const headers: Record<string, string> = {}
  response.headers.forEach((value, name) => {
    headers[name] = value
  })
  outgoing.writeHead(response.status, headers).end(body)
}
