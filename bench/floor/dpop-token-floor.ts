// The floor for the benchmark's token-endpoint scenarios: a bare node:http endpoint doing only
// what any DPoP token endpoint must do per request, with the same node:crypto primitives and
// thread pool as our server. It answers anonymous enrollment and token exchange in their shape
// (the scenarios run unchanged against it) but checks no tenant, client, resource, subject token
// or revocation, and keeps replayed `jti`s in a Set. An enrollment stores one row, the least a
// device that can be revoked and refreshed needs (its key and its refresh token's hash), in SQLite
// with the rows of one event-loop turn committed together; an exchange stores nothing. Not a
// server: a measure of what the rest of ours costs on the machine at hand (`BENCH_ONLY=floor` or
// `all`).
import '../../packages/server/src/thread-pool.ts'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { createServer, type ServerResponse } from 'node:http'
import { DatabaseSync } from 'node:sqlite'
import {
  DPoPHeaderCache,
  decodeJSONObject,
  encodeJWSSigningInput,
  sha256Base64url,
  signJWS,
  splitCompactJWS,
  verifySignatureInThreadPool,
} from '@onramp/crypto'
import { timeOrderedId } from '../../packages/server/src/crypto/secrets.ts'

const port = Number(process.env.BENCH_FLOOR_PORT)
const issuer = `http://127.0.0.1:${port}/t/floor`
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const header = { alg: 'ES256', typ: 'at+jwt', kid: 'floor' }
const headers = new DPoPHeaderCache()
const seen = new Set<string>()

const database = new DatabaseSync(String(process.env.BENCH_FLOOR_DATABASE))
database.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
  CREATE TABLE devices (id TEXT PRIMARY KEY, jkt TEXT NOT NULL, refresh_hash TEXT NOT NULL, created_at INTEGER NOT NULL)`)
const insertDevice = database.prepare('INSERT INTO devices VALUES (?, ?, ?, ?)')
let unwritten: { row: [string, string, string, number]; written: () => void }[] = []

/** Stores a device row; resolves once the transaction holding it, and this turn's others, commits. */
function storeDevice(row: [string, string, string, number]): Promise<void> {
  return new Promise((written) => {
    if (unwritten.length === 0) setImmediate(commitDevices)
    unwritten.push({ row, written })
  })
}

function commitDevices(): void {
  const batch = unwritten
  unwritten = []
  database.exec('BEGIN')
  for (const { row } of batch) insertDevice.run(...row)
  database.exec('COMMIT')
  for (const { written } of batch) written()
}

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
  // One call into the random generator per request: subject, token id and, for an enrollment, refresh token.
  const random = randomBytes(66).toString('base64url')
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
  if (!anonymous) {
    return [
      200,
      {
        access_token: await sign(input),
        issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        token_type: 'DPoP',
        expires_in: 300,
      },
    ]
  }
  const refreshToken = random.slice(44, 87)
  // Time-ordered, as ours: rows are appended at the end of the key's index.
  const deviceId = timeOrderedId()
  await storeDevice([deviceId, jkt, sha256Base64url(refreshToken), iat])
  return [
    200,
    {
      access_token: await sign(input),
      token_type: 'DPoP',
      expires_in: 300,
      refresh_token: refreshToken,
      device_id: deviceId,
    },
  ]
}

async function sign(input: string): Promise<string> {
  return `${input}.${(await signJWS('ES256', privateKey, input)).toString('base64url')}`
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
