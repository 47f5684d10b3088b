// The floor for the benchmark's token-endpoint scenarios: a bare node:http endpoint doing only
// what any DPoP token endpoint must do per request, with the same node:crypto primitives and
// thread pool as our server. It answers anonymous enrollment and token exchange in their shape
// (the scenarios run unchanged against it) but checks no tenant, client, resource, subject token
// or revocation, stores nothing, and keeps replayed `jti`s in a Set. Not a server: a measure of
// what the rest of ours costs on the machine at hand (`BENCH_ONLY=floor` or `all`).
import '../../packages/server/src/thread-pool.ts'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { createServer, type ServerResponse } from 'node:http'
import {
  DPoPHeaderCache,
  decodeJSONObject,
  encodeJWSSigningInput,
  signJWS,
  splitCompactJWS,
  verifySignatureInThreadPool,
} from '@onramp/crypto'

const port = Number(process.env.BENCH_FLOOR_PORT)
const issuer = `http://127.0.0.1:${port}/t/floor`
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const header = { alg: 'ES256', typ: 'at+jwt', kid: 'floor' }
const headers = new DPoPHeaderCache()
const seen = new Set<string>()

function answer(response: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body)
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  })
  response.end(text)
}

async function token(params: URLSearchParams, proof: string | undefined): Promise<[number, object]> {
  const parts = proof === undefined ? undefined : splitCompactJWS(proof)
  const claims = parts && decodeJSONObject(parts.encodedPayload)
  if (!parts || !claims || typeof claims.jti !== 'string') return [400, { error: 'invalid_dpop_proof' }]
  const { alg, key, jkt } = headers.get(parts.encodedHeader)
  if (
    !(await verifySignatureInThreadPool(alg, key, parts.signingInput, parts.signature)) ||
    seen.has(claims.jti)
  )
    return [400, { error: 'invalid_dpop_proof' }]
  seen.add(claims.jti)
  const anonymous = params.get('grant_type') === 'urn:onramp:params:oauth:grant-type:anonymous'
  const iat = Math.floor(Date.now() / 1000)
  // One call into the random generator per request: subject, token id, refresh token, device id.
  const random = randomBytes(96).toString('base64url')
  const input = encodeJWSSigningInput(header, {
    iss: issuer,
    sub: random.slice(0, 22),
    aud: anonymous ? issuer : params.get('audience'),
    client_id: params.get('client_id'),
    iat,
    exp: iat + 300,
    jti: random.slice(22, 44),
    amr: ['anon'],
    cnf: { jkt },
  })
  const accessToken = `${input}.${(await signJWS('ES256', privateKey, input)).toString('base64url')}`
  return [
    200,
    anonymous
      ? {
          access_token: accessToken,
          token_type: 'DPoP',
          expires_in: 300,
          refresh_token: random.slice(44, 87),
          device_id: random.slice(87, 109),
        }
      : {
          access_token: accessToken,
          issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
          token_type: 'DPoP',
          expires_in: 300,
        },
  ]
}

const server = createServer((request, response) => {
  if (request.method === 'GET') return answer(response, 200, { status: 'ok' })
  let body = ''
  request.setEncoding('utf8')
  request.on('data', (chunk: string) => {
    body += chunk
  })
  request.on('end', () => {
    const proof = request.headers.dpop
    token(new URLSearchParams(body), typeof proof === 'string' ? proof : undefined).then(
      ([status, json]) => answer(response, status, json),
      (error: unknown) =>
        answer(response, 400, { error: 'invalid_request', error_description: String(error) }),
    )
  })
})
server.listen(port, '127.0.0.1')
process.on('SIGTERM', () => server.close(() => process.exit(0)))
