import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import { derToJOSE } from '@onramp/crypto'
import { createDpopKey, type DpopKey } from './dpop.ts'

/**
 * Stands in for an Onramp tenant when benchmarking `@onramp/resource` in-process: an ES256 key
 * served as a JWKS on 127.0.0.1, and access tokens with Onramp's claims (RFC 9068, `cnf.jkt`).
 * Minting tens of thousands of tokens through the real token endpoint would measure the server.
 */
export interface BenchIssuer {
  issuer: string
  audience: string
  /** The protected URL the requests go to (`htu`); nothing listens there, the calls are in-process. */
  url: string
  signingKey: KeyObject
  kid: string
  close(): Promise<void>
}

export async function startBenchIssuer(): Promise<BenchIssuer> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const kid = randomBytes(16).toString('base64url')
  const jwks = JSON.stringify({
    keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' }],
  })
  const server: Server = createServer((request, response) => {
    if (request.url !== '/t/bench/jwks') return response.writeHead(404).end()
    response.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(jwks)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/t/bench`
  return {
    issuer,
    audience: 'bench-api',
    url: 'https://api.bench.example/orders',
    signingKey: privateKey,
    kid,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

/** One request's credentials: a DPoP-bound access token and a fresh proof for it. */
export interface ResourceRequestInput {
  token: string
  proof: string
  device: DpopKey
}

/** Devices the requests come from: each sends many, as real clients do (so key caches work as in production). */
const DEVICES = 1_000
const CHUNK = 1_000

export interface ResourceInputs {
  devices: DpopKey[]
  /** Thumbprints of the devices' keys, for `cnf.jkt`. */
  thumbprints: string[]
}

export function createDevices(): ResourceInputs {
  const devices = Array.from({ length: DEVICES }, () => createDpopKey())
  return { devices, thumbprints: devices.map(thumbprint) }
}

/** `count` distinct tokens, each with a proof (with `ath`) by its device; made in chunks so the event loop runs. */
export async function createResourceRequests(
  issuer: BenchIssuer,
  inputs: ResourceInputs,
  count: number,
): Promise<ResourceRequestInput[]> {
  const tokenHeader = encode({ alg: 'ES256', typ: 'at+jwt', kid: issuer.kid })
  const requests: ResourceRequestInput[] = new Array(count)
  for (let start = 0; start < count; start += CHUNK) {
    const now = Math.floor(Date.now() / 1000)
    for (let i = start; i < Math.min(count, start + CHUNK); i++) {
      const device = inputs.devices[i % DEVICES]!
      const token = signed(issuer.signingKey, tokenHeader, {
        iss: issuer.issuer,
        sub: randomBytes(16).toString('base64url'),
        aud: issuer.audience,
        client_id: 'bench-app',
        scope: 'orders:read orders:write',
        iat: now,
        exp: now + 300,
        jti: randomBytes(16).toString('base64url'),
        acr: '0',
        amr: ['anon', 'swk'],
        sid: randomBytes(16).toString('base64url'),
        cnf: { jkt: inputs.thumbprints[i % DEVICES] },
      })
      const proof = signed(device.privateKey, device.encodedHeader, {
        jti: randomBytes(16).toString('base64url'),
        htm: 'GET',
        htu: issuer.url,
        iat: now,
        ath: sha256(token),
      })
      requests[i] = { token, proof, device }
    }
    await yieldToEventLoop()
  }
  return requests
}

/** RFC 7638 thumbprint of the device's public key, taken from its proof header. */
function thumbprint(device: DpopKey): string {
  const { jwk } = JSON.parse(Buffer.from(device.encodedHeader, 'base64url').toString()) as {
    jwk: { crv: string; kty: string; x: string; y: string }
  }
  return sha256(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }))
}

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('base64url')
}

function signed(key: KeyObject, encodedHeader: string, payload: object): string {
  const input = `${encodedHeader}.${encode(payload)}`
  return `${input}.${derToJOSE(sign('sha256', Buffer.from(input), key), 32).toString('base64url')}`
}

function encode(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}
