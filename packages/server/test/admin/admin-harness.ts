import { createHash, generateKeyPairSync, type KeyObject, randomBytes, randomUUID, sign } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config/config.ts'
import { type Runtime, startServer } from '../../src/runtime.ts'

/** Issuers are `{publicUrl}/t/{tenant}`; requests go to the bound port, DPoP proofs name this URL. */
export const publicUrl = 'http://onramp.test'

export interface AdminResponse {
  status: number
  headers: Headers
  /** Parsed JSON, or undefined for an empty body. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read response fields freely and assert on them
  body: any
}

export interface TestServer {
  /** `http://127.0.0.1:{port}`, where the server really listens. */
  url: string
  adminToken: string
  dataDir: string
  runtime: Runtime
  /** Calls the admin API (`path` relative to `/admin/v1`) with the admin token, unless `token` says otherwise. */
  admin(
    method: string,
    path: string,
    options?: { body?: unknown; token?: string | null },
  ): Promise<AdminResponse>
  /** Calls a tenant endpoint (`path` relative to `/t/{tenant}`) with a form body. */
  tenantRequest(
    tenant: string,
    method: string,
    path: string,
    options?: { form?: Record<string, string>; headers?: Record<string, string> },
  ): Promise<AdminResponse>
  close(): Promise<void>
}

/**
 * Starts the real server in this process on a port the OS picks, with its own data folder (or
 * `dataDir`, which then outlives the server), a random admin token and no logs.
 */
export async function startTestServer(options?: {
  dataDir?: string
  env?: Record<string, string>
}): Promise<TestServer> {
  const dataDir = options?.dataDir ?? (await mkdtemp(join(tmpdir(), 'onramp-admin-')))
  const adminToken = randomBytes(24).toString('base64url')
  const runtime = await startServer(
    loadConfig({
      env: {
        ONRAMP_PORT: '0',
        ONRAMP_HOST: '127.0.0.1',
        ONRAMP_PUBLIC_URL: publicUrl,
        ONRAMP_DATA_DIR: dataDir,
        ONRAMP_LOG_LEVEL: 'silent',
        ONRAMP_ADMIN_TOKEN: adminToken,
        ...options?.env,
      },
      argv: [],
    }),
  )
  const address = runtime.app.server.address()
  if (!address || typeof address !== 'object') throw new Error('the server is not listening')
  const url = `http://127.0.0.1:${address.port}`
  return {
    url,
    adminToken,
    dataDir,
    runtime,
    admin: async (method, path, request) => {
      const token = request?.token === undefined ? adminToken : request.token
      const headers: Record<string, string> = token === null ? {} : { authorization: `Bearer ${token}` }
      if (request?.body !== undefined) headers['content-type'] = 'application/json'
      const response = await fetch(`${url}/admin/v1${path}`, {
        method,
        headers,
        ...(request?.body !== undefined && { body: JSON.stringify(request.body) }),
      })
      return parse(response)
    },
    tenantRequest: async (tenant, method, path, request) => {
      const response = await fetch(`${url}/t/${tenant}${path}`, {
        method,
        headers: {
          ...(request?.form && { 'content-type': 'application/x-www-form-urlencoded' }),
          ...request?.headers,
        },
        ...(request?.form && { body: new URLSearchParams(request.form).toString() }),
      })
      return parse(response)
    },
    close: async () => {
      await runtime.close()
      if (!options?.dataDir) await rm(dataDir, { recursive: true, force: true })
    },
  }
}

async function parse(response: Response): Promise<AdminResponse> {
  const text = await response.text()
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined }
}

/** A device key that signs RFC 9449 DPoP proofs. */
export class DPoPKey {
  readonly #privateKey: KeyObject
  readonly #jwk: { kty: string; crv: string; x: string; y: string }

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    this.#privateKey = privateKey
    const { kty, crv, x, y } = publicKey.export({ format: 'jwk' }) as Record<string, string>
    this.#jwk = { kty: kty!, crv: crv!, x: x!, y: y! }
  }

  proof(method: string, url: string, accessToken?: string): string {
    const encode = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url')
    const input = `${encode({ typ: 'dpop+jwt', alg: 'ES256', jwk: this.#jwk })}.${encode({
      jti: randomUUID(),
      htm: method,
      htu: url,
      iat: Math.floor(Date.now() / 1000),
      ...(accessToken && { ath: createHash('sha256').update(accessToken).digest('base64url') }),
    })}`
    const signature = sign('sha256', Buffer.from(input), { key: this.#privateKey, dsaEncoding: 'ieee-p1363' })
    return `${input}.${signature.toString('base64url')}`
  }
}

/** Enrolls a new anonymous device with the tenant's public client. */
export async function enrollAnonymous(
  server: TestServer,
  tenant: string,
  clientId: string,
): Promise<{ key: DPoPKey; accessToken: string; refreshToken: string; deviceId: string }> {
  const key = new DPoPKey()
  const response = await server.tenantRequest(tenant, 'POST', '/token', {
    form: {
      grant_type: 'urn:onramp:params:oauth:grant-type:anonymous',
      client_id: clientId,
      authentication_mode: 'no',
    },
    headers: { dpop: key.proof('POST', `${publicUrl}/t/${tenant}/token`) },
  })
  if (response.status !== 200) throw new Error(`enrollment failed: ${JSON.stringify(response.body)}`)
  return {
    key,
    accessToken: response.body.access_token,
    refreshToken: response.body.refresh_token,
    deviceId: response.body.device_id,
  }
}

let sequence = 0
const run = randomBytes(3).toString('hex')

/** A tenant id (or other name) no other test uses. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${run}-${++sequence}`
}

/** The `kid` in a JWT's header. */
export function kidOf(jwt: string): string {
  return JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()).kid
}
