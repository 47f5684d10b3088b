import { createPublicKey, type JsonWebKey, verify } from 'node:crypto'
import { joseToDER } from '@onramp/crypto'
import { createResourceVerifier, ResourceError } from '@onramp/resource'
import { createDpopKey, createDpopProof, createDpopProofs, type DpopKey } from './lib/dpop.ts'
import { inProcessWorkload } from './lib/in-process.ts'
import type { HttpRequestSpec } from './lib/load.ts'
import { createDevices, createResourceRequests } from './lib/resource-inputs.ts'
import { httpWorkload, type Log, type Workload } from './lib/workload.ts'
import type { OursTarget, PeerTarget, ResourceTarget, TargetMap, TargetName } from './targets.ts'

export interface Scenario<K extends TargetName = TargetName> {
  name: string
  target: K
  /** Runs once before the warm-up: checks the target really behaves as assumed, then builds the load. */
  setup(target: TargetMap[K], log: Log): Promise<Workload>
}

function defineScenario<K extends TargetName>(scenario: Scenario<K>): Scenario {
  return scenario as unknown as Scenario
}

export const PEER_CLIENT_CREDENTIALS = 'peer client_credentials (JWT ES256)'
export const OURS_ENROLLMENT = 'anonymous enrollment (DPoP)'
export const OURS_EXCHANGE = 'token exchange (DPoP)'
export const FLOOR_ENROLLMENT = 'floor: anonymous enrollment (bare node:http, one row stored)'
export const FLOOR_EXCHANGE = 'floor: token exchange (bare node:http, no lookups)'
export const RESOURCE_CEILING = 'resource ceiling: 2 ES256 crypto.verify (in-process)'
export const RESOURCE_VERIFY = 'resource verifyRequest (DPoP, in-process)'

const FORM = 'application/x-www-form-urlencoded'
const ANONYMOUS_GRANT = 'urn:onramp:params:oauth:grant-type:anonymous'
const EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange'
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token'

export const scenarios: Scenario[] = [
  defineScenario({
    name: PEER_CLIENT_CREDENTIALS,
    target: 'peer',
    async setup(peer: PeerTarget, log: Log): Promise<Workload> {
      const request: HttpRequestSpec = {
        method: 'POST',
        path: '/token',
        headers: {
          authorization: `Basic ${Buffer.from(`${peer.clientId}:${peer.clientSecret}`).toString('base64')}`,
          'content-type': FORM,
        },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          resource: peer.resource,
          scope: peer.scope,
        }).toString(),
      }
      const body = await expectOk(peer.baseUrl, request, 'peer client_credentials')
      log(`probe: ${await assertEs256Jwt(peer.baseUrl, String(body.access_token))}`)
      return httpWorkload(peer.baseUrl, request)
    },
  }),

  defineScenario({ name: OURS_ENROLLMENT, target: 'ours', setup: enrollmentWorkload }),
  defineScenario({ name: OURS_EXCHANGE, target: 'ours', setup: exchangeWorkload }),
  defineScenario({ name: FLOOR_ENROLLMENT, target: 'floor', setup: enrollmentWorkload }),
  defineScenario({ name: FLOOR_EXCHANGE, target: 'floor', setup: exchangeWorkload }),

  // The raw node:crypto ceiling of a resource server's work per request: the token's and the
  // proof's ES256 signatures, with DER signatures, imported KeyObjects and sync crypto.verify, on
  // inputs made like the next scenario's. Nothing else: no parsing, no claims, no replay cache.
  defineScenario({
    name: RESOURCE_CEILING,
    target: 'resource',
    async setup({ issuer }: ResourceTarget, log: Log): Promise<Workload> {
      const inputs = createDevices()
      const issuerKey = createPublicKey(issuer.signingKey)
      const deviceKeys = inputs.devices.map((device) => createPublicKey(device.privateKey))
      log(`${deviceKeys.length} devices; verifying the token and the proof of each request`)
      return inProcessWorkload({
        warmUpPerSecond: 8_000,
        async prepare(count) {
          const requests = await createResourceRequests(issuer, inputs, count)
          const signed = (jws: string) => {
            const dot = jws.lastIndexOf('.')
            return {
              input: Buffer.from(jws.slice(0, dot)),
              signature: joseToDER(Buffer.from(jws.slice(dot + 1), 'base64url'), 32)!,
            }
          }
          const prepared = requests.map(({ token, proof }) => ({
            token: signed(token),
            proof: signed(proof),
          }))
          return {
            count: prepared.length,
            run(index) {
              const { token, proof } = prepared[index]!
              if (
                !verify('sha256', token.input, issuerKey, token.signature) ||
                !verify('sha256', proof.input, deviceKeys[index % deviceKeys.length]!, proof.signature)
              ) {
                throw new Error('signature did not verify')
              }
            },
          }
        },
      })
    },
  }),

  // What every request to a backend costs with @onramp/resource: verifyRequest on a WHATWG Request
  // with a DPoP-bound token and a fresh proof (distinct tokens, 1,000 devices, replay cache on).
  defineScenario({
    name: RESOURCE_VERIFY,
    target: 'resource',
    async setup({ issuer }: ResourceTarget, log: Log): Promise<Workload> {
      const inputs = createDevices()
      const verifier = createResourceVerifier({ issuer: issuer.issuer, audience: issuer.audience })
      const toRequest = ({ token, proof }: { token: string; proof: string }) =>
        new Request(issuer.url, { headers: { authorization: `DPoP ${token}`, dpop: proof } })
      const [probe] = await createResourceRequests(issuer, inputs, 1)
      const { access } = await verifier.verifyRequest(toRequest(probe!))
      const replay = await verifier.verifyRequest(toRequest(probe!)).then(
        () => 'accepted',
        (error: unknown) => (error instanceof ResourceError ? error.message : String(error)),
      )
      if (replay !== 'the DPoP proof has been used before') throw new Error(`replayed probe: ${replay}`)
      log(`probe: ${access.scheme} token of ${access.claims.client_id} accepted; its replay refused`)
      return inProcessWorkload({
        warmUpPerSecond: 6_000,
        async prepare(count) {
          const requests = (await createResourceRequests(issuer, inputs, count)).map(toRequest)
          return { count: requests.length, run: (index) => verifier.verifyRequest(requests[index]!) }
        },
      })
    },
  }),
]

async function enrollmentWorkload(ours: OursTarget, log: Log): Promise<Workload> {
  const tokenUrl = `${ours.baseUrl}/t/${ours.tenant}/token`
  const request = enrollmentRequest(ours)
  log(`probe: enrollment gave ${describeToken(await enroll(ours, createDpopKey()))}`)
  // A new key per proof: every enrollment is a new install, and the server gets no key-cache help.
  return httpWorkload(ours.baseUrl, request, {
    header: 'DPoP',
    make: (count) => createDpopProofs({ count, htm: 'POST', htu: tokenUrl, keyPerProof: true }),
  })
}

async function exchangeWorkload(ours: OursTarget, log: Log): Promise<Workload> {
  const tokenUrl = `${ours.baseUrl}/t/${ours.tenant}/token`
  const key = createDpopKey()
  const subjectToken = await enroll(ours, key)
  const request: HttpRequestSpec = {
    method: 'POST',
    path: `/t/${ours.tenant}/token`,
    headers: { 'content-type': FORM },
    body: new URLSearchParams({
      grant_type: EXCHANGE_GRANT,
      client_id: ours.clientId,
      subject_token: subjectToken,
      subject_token_type: ACCESS_TOKEN_TYPE,
      audience: ours.audience,
    }).toString(),
  }
  const exchanged = await expectOk(
    ours.baseUrl,
    withHeader(request, 'DPoP', createDpopProof(key, 'POST', tokenUrl)),
    'token exchange',
  )
  log(
    `probe: exchange gave ${describeToken(String(exchanged.access_token))}, token_type ${String(exchanged.token_type)}`,
  )
  return httpWorkload(ours.baseUrl, request, {
    header: 'DPoP',
    make: (count) => createDpopProofs({ count, htm: 'POST', htu: tokenUrl, key }),
  })
}

function enrollmentRequest(ours: OursTarget): HttpRequestSpec {
  return {
    method: 'POST',
    path: `/t/${ours.tenant}/token`,
    headers: { 'content-type': FORM },
    body: new URLSearchParams({
      grant_type: ANONYMOUS_GRANT,
      client_id: ours.clientId,
      authentication_mode: 'no',
    }).toString(),
  }
}

/** Enrolls once with `key` and returns the DPoP-bound access token. */
async function enroll(ours: OursTarget, key: DpopKey): Promise<string> {
  const proof = createDpopProof(key, 'POST', `${ours.baseUrl}/t/${ours.tenant}/token`)
  const body = await expectOk(ours.baseUrl, withHeader(enrollmentRequest(ours), 'DPoP', proof), 'enrollment')
  if (typeof body.access_token !== 'string') {
    throw new Error(`enrollment returned no access_token: ${JSON.stringify(body)}`)
  }
  if (String(body.token_type).toLowerCase() !== 'dpop') {
    throw new Error(`enrollment token_type is ${String(body.token_type)}, expected DPoP`)
  }
  return body.access_token
}

/** Enough of a token to see in the log what is being benchmarked, without trusting it. */
function describeToken(token: string): string {
  if (!token.startsWith('eyJ')) return `an opaque token (${token.length} chars)`
  try {
    const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as Record<
      string,
      unknown
    >
    return `a JWT (alg ${String(header.alg)}, typ ${String(header.typ)})`
  } catch {
    return `a malformed JWT (${token.length} chars)`
  }
}

function withHeader(request: HttpRequestSpec, name: string, value: string): HttpRequestSpec {
  return { ...request, headers: { ...request.headers, [name]: value } }
}

async function expectOk(
  baseUrl: string,
  request: HttpRequestSpec,
  what: string,
): Promise<Record<string, unknown>> {
  const response = await fetch(new URL(request.path, baseUrl), {
    method: request.method,
    headers: request.headers,
    ...(request.body === undefined ? {} : { body: request.body }),
  })
  const text = await response.text()
  if (response.status !== 200) throw new Error(`${what} probe: HTTP ${response.status}: ${text}`)
  try {
    return JSON.parse(text) as Record<string, unknown>
  } catch {
    throw new Error(`${what} probe: response is not JSON: ${text}`)
  }
}

/** The comparison is only fair if the peer signs asymmetric JWTs too, so prove it does. */
async function assertEs256Jwt(issuer: string, token: string): Promise<string> {
  const parts = token.split('.')
  if (parts.length !== 3 || !token.startsWith('eyJ')) {
    throw new Error(`peer access token is not a compact JWS: ${token.slice(0, 60)}`)
  }
  const [encodedHeader, encodedPayload, encodedSignature] = parts as [string, string, string]
  const header = JSON.parse(Buffer.from(encodedHeader, 'base64url').toString()) as Record<string, unknown>
  if (header.alg !== 'ES256') {
    throw new Error(`peer access token alg is ${String(header.alg)}, expected ES256`)
  }

  const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as {
    jwks_uri: string
  }
  const jwks = (await (await fetch(discovery.jwks_uri)).json()) as { keys: (JsonWebKey & { kid?: string })[] }
  const jwk = jwks.keys.find((key) => key.kid === header.kid)
  if (!jwk) throw new Error(`peer JWKS has no key with kid ${String(header.kid)}`)
  const valid = verify(
    'sha256',
    Buffer.from(`${encodedHeader}.${encodedPayload}`),
    { key: createPublicKey({ key: jwk, format: 'jwk' }), dsaEncoding: 'ieee-p1363' },
    Buffer.from(encodedSignature, 'base64url'),
  )
  if (!valid) throw new Error('peer access token signature does not verify against its JWKS')
  return `JWT alg ${header.alg} typ ${String(header.typ)}, signature verified against the peer JWKS`
}
