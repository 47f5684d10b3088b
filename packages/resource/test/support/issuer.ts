import { generateKeyPairSync, type KeyObject, randomUUID, sign } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface SigningKey {
  kid: string
  privateKey: KeyObject
  jwk: Record<string, unknown>
}

export interface TokenOptions {
  /** Header members to replace or add; `undefined` removes one. */
  header?: Record<string, unknown>
  key?: SigningKey
}

/**
 * A stand-in for an Onramp tenant: an ES256 key set served as a JWKS from 127.0.0.1, and access
 * tokens signed like Onramp's (RFC 9068, `typ` at+jwt, `kid`), with any claims a test wants.
 */
export interface TestIssuer {
  issuer: string
  jwksUri: string
  /** The key tokens are signed with. */
  key: SigningKey
  /** How many times the JWKS was fetched. */
  readonly fetches: number
  /** Publishes a new key next to the current ones and signs with it from now on. */
  rotate(): SigningKey
  /** Answer the JWKS with this status (e.g. 500) until set back to 200. */
  setStatus(status: number): void
  /** A token with Onramp's claims for `audience`, overridden by `claims` (`undefined` removes one). */
  token(claims?: Record<string, unknown>, options?: TokenOptions): string
  close(): Promise<void>
}

export const audience = 'demo-api'

export async function startIssuer(): Promise<TestIssuer> {
  const keys: SigningKey[] = [createSigningKey()]
  let fetches = 0
  let status = 200
  const server = createServer((request, response) => {
    if (request.url !== '/t/demo/jwks') return response.writeHead(404).end()
    fetches++
    if (status !== 200) return response.writeHead(status).end()
    response
      .writeHead(200, { 'content-type': 'application/jwk-set+json' })
      .end(JSON.stringify({ keys: keys.map((key) => key.jwk) }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/t/demo`
  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    get key() {
      return keys.at(-1)!
    },
    get fetches() {
      return fetches
    },
    rotate() {
      keys.push(createSigningKey())
      return keys.at(-1)!
    },
    setStatus(value) {
      status = value
    },
    token(claims = {}, options = {}) {
      const key = options.key ?? keys.at(-1)!
      const now = Math.floor(Date.now() / 1000)
      const payload: Record<string, unknown> = {
        iss: issuer,
        sub: 'subject-1',
        aud: audience,
        client_id: 'demo-app',
        scope: 'demo:read demo:write',
        iat: now,
        exp: now + 300,
        jti: randomUUID(),
        acr: '0',
        amr: ['anon', 'swk'],
        sid: 'family-1',
      }
      return signJWT(
        key,
        { alg: 'ES256', typ: 'at+jwt', kid: key.kid, ...options.header },
        { ...payload, ...claims },
      )
    },
    close: () =>
      new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  }
}

export function createSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const kid = randomUUID()
  return { kid, privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' } }
}

/** A compact JWS signed with ES256; header and payload members set to `undefined` are left out. */
export function signJWT(
  key: SigningKey | KeyObject,
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
): string {
  const input = `${encode(header)}.${encode(payload)}`
  const privateKey = 'privateKey' in key ? key.privateKey : key
  const signature = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' })
  return `${input}.${signature.toString('base64url')}`
}

export function encode(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

/** The token's payload, unverified. */
export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >
}
