import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { GrantType, TokenType } from '@onramp/protocol'
import { accessTokenHash, createProof } from '../support/dpop-proof.ts'
import {
  Browser,
  enableHostedLogin,
  findForm,
  plainAuthorization,
  redirectUri,
} from '../support/hosted-login.ts'
import { sendRaw } from '../support/http.ts'
import { createDeviceKey, type DeviceKey, demo, discover, enroll } from '../support/oauth-client.ts'
import { createTestDatabase, skipUnlessPostgres, type TestDatabase } from '../support/postgres.ts'
import { skipUnlessRedis, testRedisUrl } from '../support/redis.ts'
import { SeededRandom } from '../support/seeded-random.ts'
import { startTestServer, type TestServer } from '../support/server.ts'

/**
 * Every route the server registers, read from Fastify's own route table, gets requests built at
 * random from hostile and half-valid parts: odd path parameters, query strings, content types,
 * bodies, credentials and DPoP proofs, mixed with real ones (a device's token and proofs for the
 * exact URL, the admin token, a login interaction's cookie and CSRF token). Where a route has a
 * valid request, half of its requests start from it with a field or two changed, so that they
 * get past the first checks. Whatever a client sends, the answer is a 4xx or a success, never a
 * 5xx or a hang. The sequence is seeded: ONRAMP_FUZZ_SEED repeats a failing run, ONRAMP_FUZZ_RUNS
 * sets the requests per route and method (default 20), and ONRAMP_FUZZ_STATS=1 prints the
 * statuses each route answered (how deep the requests got).
 */

const seed = Number(process.env.ONRAMP_FUZZ_SEED ?? 20261121)
const runsPerRoute = Number(process.env.ONRAMP_FUZZ_RUNS ?? 20)

interface Route {
  method: string
  path: string
}

/**
 * The routes in `printRoutes({ commonPrefix: false })`'s tree: a line per node, its depth given by
 * its indentation (4 characters a level), its path the concatenation of its ancestors' segments.
 */
function parseRoutes(tree: string): Route[] {
  const routes: Route[] = []
  const prefixes: string[] = []
  for (const line of tree.split('\n')) {
    const match = /^([│ ]*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line)
    if (!match) continue
    const depth = match[1]!.length / 4
    const path = (prefixes[depth - 1] ?? '') + match[2]!
    prefixes[depth] = path
    prefixes.length = depth + 1
    for (const method of match[3]?.split(', ') ?? []) {
      if (method !== 'HEAD') routes.push({ method, path: path.startsWith('/') ? path : `/${path}` })
    }
  }
  return routes
}

const parameterNames = [
  'grant_type',
  'client_id',
  'client_secret',
  'refresh_token',
  'subject_token',
  'subject_token_type',
  'requested_token_type',
  'audience',
  'resource',
  'scope',
  'token',
  'token_type_hint',
  'authentication_mode',
  'hardware_key',
  'code',
  'code_verifier',
  'redirect_uri',
  'request_uri',
  'response_type',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'anonymous_token',
  'app_name',
  'app_version',
  'platform',
  'email',
  'password',
  'csrf_token',
  'response',
  'action',
  'prefer',
  'limit',
  'after',
  'profile_id',
  'user-identifier',
  'model-family',
]

const jsonKeys = [
  'id',
  'name',
  'settings',
  'client_id',
  'type',
  'grant_types',
  'scopes',
  'redirect_uris',
  'web_origins',
  'app_policy',
  'audience',
  'allowed_clients',
  'allow_anonymous',
  'min_acr',
  'authentication_modes',
  'managed_domains',
  'apns_topic',
  'enrollment_types',
  'RequestType',
  'anonymous_token',
  'prefer',
  'secret',
  'merge_policy',
  'login_lockout',
  'attribute_quota',
  'upstream_providers',
  'access_token_ttl',
  '__proto__',
  'constructor',
]

const skipPostgres = await skipUnlessPostgres()
const skipRedis = skipPostgres || (await skipUnlessRedis())

// On both stores, PostgreSQL refusing what SQLite keeps (a NUL character in text, say), and as a
// cluster node, with replay cache, nonces and rate limits in Redis.
const setups = [
  { name: 'SQLite', postgres: false, redis: false, skip: false },
  { name: 'PostgreSQL', postgres: true, redis: false, skip: skipPostgres },
  { name: 'PostgreSQL and Redis', postgres: true, redis: true, skip: skipRedis },
] as const

for (const setup of setups)
  describe(`fuzzing every route on ${setup.name}`, { skip: setup.skip }, () => {
    let database: TestDatabase | undefined
    let server: TestServer
    let key: DeviceKey
    let accessToken: string
    let refreshToken: string
    let loginCookie: string
    let csrfToken: string
    const seeded = new SeededRandom(seed)
    const random = (): number => seeded.next()
    const pick = <T>(items: readonly T[]): T => seeded.pick(items)
    const chance = (p: number): boolean => seeded.chance(p)

    /** A string from the hostile, the odd and the valid-looking; `short` leaves out the very long. */
    function text(short = false): string {
      switch (Math.floor(random() * 14)) {
        case 0:
          return ''
        case 1:
          return 'x'.repeat(1 + Math.floor(random() * (short ? 100 : 9000)))
        case 2:
          return '\u0000\u0001\u001f'
        case 3:
          return '😀ü\u2028\ud800'
        case 4:
          return pick(['-1', '0', '1e309', 'NaN', 'true', 'null', '[]', '{}', '9007199254740993'])
        case 5:
          return pick(['../../etc/passwd', '%00', '%ZZ', '<script>alert(1)</script>', "' or 1=1 --"])
        case 6:
          return pick(Object.values(GrantType))
        case 7:
          return pick(Object.values(TokenType))
        case 8:
          return pick([demo.tenant, demo.client, demo.resource, 'no', 'password', 'biometric', 'S256'])
        case 9:
          return pick([
            accessToken,
            refreshToken,
            `${accessToken}x`,
            accessToken.split('.').reverse().join('.'),
          ])
        case 10:
          return pick([
            'https://app.example/callback',
            'javascript:alert(1)',
            'http://127.0.0.1:1/',
            '//evil',
          ])
        default:
          return Array.from({ length: Math.floor(random() * 40) }, () =>
            String.fromCharCode(32 + Math.floor(random() * 95)),
          ).join('')
      }
    }

    function jsonValue(depth: number): unknown {
      switch (Math.floor(random() * (depth > 3 ? 5 : 8))) {
        case 0:
          return null
        case 1:
          return chance(0.5)
        case 2:
          return pick([0, -1, 1.5, 1e308, Number.MAX_SAFE_INTEGER + 2, 2 ** 31])
        case 3:
        case 4:
          return text()
        case 5:
          return Array.from({ length: Math.floor(random() * 4) }, () => jsonValue(depth + 1))
        default: {
          const object: Record<string, unknown> = {}
          for (let i = Math.floor(random() * 5); i > 0; i--) {
            object[chance(0.8) ? pick(jsonKeys) : text()] = jsonValue(depth + 1)
          }
          return object
        }
      }
    }

    let serial = 0
    const codeChallenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'
    const authorizationRequest = () => ({
      client_id: demo.client,
      response_type: 'code',
      redirect_uri: redirectUri,
      code_challenge: codeChallenge,
      code_challenge_method: 'S256',
      state: 'fuzz',
    })
    const account = () => ({
      email: `fuzz-${++serial}@example.com`,
      password: 'correct horse battery',
      csrf_token: csrfToken,
    })

    /** A valid form or query for the route, where there is one: the start of half its requests. */
    const formBases: Record<string, () => Record<string, string>> = {
      '/t/:tenant/token': () =>
        pick<Record<string, string>>([
          { grant_type: GrantType.anonymous, client_id: demo.client, authentication_mode: 'no' },
          {
            grant_type: GrantType.tokenExchange,
            client_id: demo.client,
            subject_token: accessToken,
            subject_token_type: TokenType.accessToken,
            audience: demo.resource,
          },
          { grant_type: GrantType.refreshToken, client_id: demo.client, refresh_token: refreshToken },
        ]),
      '/t/:tenant/revoke': () => ({ token: pick([accessToken, refreshToken]), client_id: demo.client }),
      '/t/:tenant/par': () => ({ ...authorizationRequest(), anonymous_token: accessToken }),
      '/t/:tenant/authorize': authorizationRequest,
      '/t/:tenant/app-config': () => ({ app_name: demo.client, app_version: '1.2.3', platform: 'ios' }),
      '/.well-known/com.apple.remotemanagement': () => ({
        'user-identifier': 'person@fuzz.example',
        'model-family': 'iPhone',
      }),
      '/t/:tenant/login/sign-in': account,
      '/t/:tenant/login/sign-up': account,
      '/t/:tenant/login/cancel': () => ({ csrf_token: csrfToken }),
      '/t/:tenant/login/passkey/options': () => ({
        action: pick(['register', 'sign_in']),
        csrf_token: csrfToken,
      }),
      '/t/:tenant/login/passkey': () => ({
        action: pick(['register', 'sign_in']),
        response: JSON.stringify(jsonValue(0)),
        csrf_token: csrfToken,
      }),
    }

    /** A valid JSON body for the route, where there is one. */
    const jsonBases: Record<string, () => Record<string, unknown>> = {
      'POST /admin/v1/tenants': () => ({ id: `fuzz-${++serial}`, name: 'Fuzz' }),
      'PATCH /admin/v1/tenants/:tenant': () => ({
        settings: { access_token_ttl: 300, merge_policy: 'none' },
      }),
      'POST /admin/v1/tenants/:tenant/clients': () => ({
        client_id: `client-${++serial}`,
        type: pick(['public', 'confidential']),
        redirect_uris: [redirectUri],
      }),
      'PATCH /admin/v1/tenants/:tenant/clients/:client_id': () => ({
        app_policy: { min_version: '1.0.0', latest_version: '2.0.0' },
      }),
      'POST /admin/v1/tenants/:tenant/resources': () => ({
        audience: `https://api-${++serial}.example/`,
        allowed_clients: [demo.client],
        allow_anonymous: true,
      }),
      'PUT /admin/v1/tenants/:tenant/apple': () => ({
        managed_domains: ['fuzz.example'],
        apns_topic: 'com.apple.mgmt.External.fuzz',
      }),
      'POST /admin/v1/tenants/:tenant/apple/enrollments/:enrollment_id/commands': () => ({
        RequestType: 'DeviceInformation',
      }),
      'PATCH /admin/v1/tenants/:tenant/accounts/:profile_id/passkeys/:credential_id': () => ({
        name: 'Phone',
      }),
      'PUT /t/:tenant/profile/attributes*': () => ({ items: [{ sku: 'A1', quantity: 2 }] }),
      'PATCH /t/:tenant/profile/passkeys/:credential_id': () => ({ name: 'Phone' }),
      'POST /t/:tenant/profile/merge': () => ({ anonymous_token: accessToken, prefer: 'anonymous' }),
    }

    /** `base` with up to two of its fields removed, replaced, repeated or joined by another. */
    function mutateForm(base: Record<string, string>): URLSearchParams {
      const params = new URLSearchParams(base)
      for (let i = Math.floor(random() * 3); i > 0; i--) {
        const name = chance(0.7) ? pick(Object.keys(base)) : pick(parameterNames)
        const change = Math.floor(random() * 4)
        if (change === 0) params.delete(name)
        else if (change === 1) params.set(name, text())
        else if (change === 2) params.append(name, text())
        else params.append(text(true), text())
      }
      return params
    }

    function mutateJSON(base: Record<string, unknown>): Record<string, unknown> {
      const object = { ...base }
      for (let i = Math.floor(random() * 3); i > 0; i--) {
        const name = chance(0.7) ? pick(Object.keys(base)) : pick(jsonKeys)
        if (chance(0.3)) delete object[name]
        else object[name] = jsonValue(1)
      }
      return object
    }

    function form(route: string): string {
      const base = formBases[route]
      let params: URLSearchParams
      if (base && chance(0.5)) params = mutateForm(base())
      else {
        params = new URLSearchParams()
        for (let i = Math.floor(random() * 8); i > 0; i--) {
          params.append(chance(0.85) ? pick(parameterNames) : text(), text())
        }
        if (chance(0.4)) params.set('csrf_token', csrfToken)
      }
      return chance(0.1) ? `${params.toString()}&%%%=&=` : params.toString()
    }

    function body(route: Route): { type?: string; body?: string | Buffer } {
      const jsonBase = jsonBases[`${route.method} ${route.path}`]
      if (jsonBase && chance(0.5))
        return { type: 'application/json', body: JSON.stringify(mutateJSON(jsonBase())) }
      if (formBases[route.path] && chance(0.5))
        return { type: 'application/x-www-form-urlencoded', body: form(route.path) }
      switch (Math.floor(random() * 9)) {
        case 0:
          return {}
        case 1:
        case 2:
          return { type: 'application/x-www-form-urlencoded', body: form(route.path) }
        case 3:
        case 4: {
          const value = JSON.stringify(jsonValue(0)).replaceAll('"constructor"', '"__proto__"')
          return { type: 'application/json', body: value }
        }
        case 5:
          return { type: 'application/json', body: `${'['.repeat(5000)}${']'.repeat(5000)}` }
        case 6:
          return {
            type: pick(['application/pkcs7-signature', 'application/x-apple-aspen-deviceinfo', 'text/plain']),
            body: Buffer.from(Array.from({ length: Math.floor(random() * 2000) }, () => random() * 256)),
          }
        case 7:
          return {
            type: pick(['multipart/form-data; boundary=x', 'application/json; charset=latin1', text()]),
            body: text(),
          }
        default:
          return { type: 'application/x-www-form-urlencoded', body: text() }
      }
    }

    /** A short odd path segment, percent-encoded. */
    const oddSegment = () => encodeURIComponent(text(true).toWellFormed() || 'x')

    /** A path parameter's value: mostly a likely one, else an odd one. */
    function parameter(name: string, admin: boolean): string {
      if (name === ':tenant') return chance(0.85) ? (admin ? 'fuzz' : demo.tenant) : oddSegment()
      if (name === ':type') return chance(0.7) ? pick(['byod', 'adde']) : oddSegment()
      if (name === ':client_id') return chance(0.6) ? demo.client : oddSegment()
      if (name === ':screen') return chance(0.5) ? pick(['sign-in', 'sign-up', 'passkey']) : oddSegment()
      return oddSegment()
    }

    /** The route's path with its parameters filled in; a wildcard (`name*`) takes one or two more segments. */
    function pathFor(template: string, admin: boolean): string {
      return template
        .split('/')
        .map((segment) => {
          const wildcard = segment.endsWith('*')
          const name = wildcard ? segment.slice(0, -1) : segment
          const head = name.startsWith(':') ? parameter(name, admin) : name
          if (!wildcard) return head
          const tail = chance(0.5)
            ? pick(['cart', demo.resource, `resource-secrets/${demo.resource}`])
            : oddSegment()
          return head ? `${head}/${tail}` : tail
        })
        .join('/')
    }

    function query(route: string): string {
      const base = formBases[route]
      if (base && chance(0.5)) return `?${mutateForm(base()).toString()}`
      if (chance(0.4)) return ''
      const params = new URLSearchParams()
      for (let i = 1 + Math.floor(random() * 5); i > 0; i--)
        params.append(pick(parameterNames), text(chance(0.9)))
      return `?${params.toString()}${chance(0.1) ? '&%ZZ=%' : ''}`
    }

    async function headers(method: string, url: string, admin: boolean): Promise<Record<string, string>> {
      const headers: Record<string, string> = {}
      const credentials = Math.floor(random() * 8)
      if (credentials === 1) headers.authorization = `DPoP ${accessToken}`
      if (credentials === 2) headers.authorization = `Bearer ${accessToken}`
      if (credentials === 3) headers.authorization = `Bearer ${admin ? server.adminToken : text()}`
      if (credentials === 4)
        headers.authorization = `Basic ${Buffer.from(`${text()}:${text()}`).toString('base64')}`
      if (credentials === 5) headers.authorization = text()
      if (admin && chance(0.7)) headers.authorization = `Bearer ${server.adminToken}`
      const proof = headers.authorization?.startsWith('DPoP ') && chance(0.7) ? 1 : Math.floor(random() * 4)
      const ath =
        headers.authorization?.startsWith('DPoP ') && chance(0.8) ? accessTokenHash(accessToken) : undefined
      if (proof === 1)
        headers.dpop = await createProof(key.keyPair, {
          htm: method,
          htu: url.split('?')[0]!,
          ...(ath && { ath }),
        })
      if (proof === 2) headers.dpop = text()
      if (proof === 3)
        headers.dpop = await createProof(key.keyPair, { htm: pick(['GET', method]), htu: text() })
      if (chance(0.3)) headers.origin = pick(['https://evil.example', 'null', server.url, text()])
      if (chance(0.4)) headers.cookie = chance(0.7) ? loginCookie : text()
      return Object.fromEntries(
        Object.entries(headers).map(([name, value]) => [name, value.replace(/[^\t\x20-\x7e]/g, '?')]),
      )
    }

    async function enrollDevice(): Promise<void> {
      key = await createDeviceKey()
      const tokens = await enroll(await discover(server.issuer()), key)
      accessToken = tokens.access_token
      refreshToken = tokens.refresh_token!
    }

    /**
     * After a success that may have ended what later requests build on: the device's tokens (a
     * refresh, a revocation, the profile deleted) or the fuzz tenant (deleted).
     */
    async function restore(route: Route): Promise<void> {
      if (['/t/:tenant/token', '/t/:tenant/revoke', '/t/:tenant/profile'].includes(route.path))
        await enrollDevice()
      if (route.method === 'DELETE' && !(await server.services.tenants.find('fuzz'))) await createFuzzTenant()
    }

    /** The tenant the admin routes are aimed at, with a client and a resource of the demo's names. */
    async function createFuzzTenant(): Promise<void> {
      const { services } = server
      await services.tenants.create({ id: 'fuzz' })
      await services.clients.create('fuzz', {
        clientId: demo.client,
        type: 'public',
        grantTypes: [GrantType.anonymous],
      })
      await services.resources.create('fuzz', {
        audience: demo.resource,
        policy: { allowedClients: [demo.client] },
      })
    }

    before(async () => {
      database = setup.postgres ? await createTestDatabase({ prefix: 'onramp_fuzz' }) : undefined
      server = await startTestServer({
        env: {
          ONRAMP_ENROLLMENT_RATE_LIMIT: 'off',
          ...(setup.redis && { ONRAMP_REDIS_URL: testRedisUrl }),
          ...(database && {
            ONRAMP_DATABASE_URL: database.url,
            ONRAMP_MASTER_KEY: randomBytes(32).toString('hex'),
          }),
        },
      })
      await enrollDevice()
      await createFuzzTenant()
      // Apple account-driven enrollment on the demo tenant, so that its routes get past "not configured".
      const apple = await sendRaw(`${server.url}/admin/v1/tenants/${demo.tenant}/apple`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          managed_domains: ['fuzz.example'],
          apns_topic: 'com.apple.mgmt.External.fuzz',
        }),
      })
      assert.equal(apple.status, 200, JSON.stringify(apple.body))
      await enableHostedLogin(server.services)
      const browser = new Browser(server.url)
      const page = await browser.navigate((await plainAuthorization(server.issuer())).url)
      csrfToken = findForm(page.body, '/login/sign-in').csrfToken
      const cookieName = `onramp-login-${demo.tenant}`
      loginCookie = `${cookieName}=${browser.cookie(cookieName)}`
    })
    after(async () => {
      await server?.close()
      await database?.drop()
    })

    it('answers every route with a 4xx or a success, whatever it is sent', async () => {
      const routes = parseRoutes(server.runtime.app.printRoutes({ commonPrefix: false }))
      assert.ok(routes.length > 40, `only ${routes.length} routes found: ${JSON.stringify(routes)}`)
      const failures = new Map<string, string>()
      const stats = new Map<string, string>()
      for (const route of routes) {
        const admin = route.path.startsWith('/admin/')
        for (let run = 0; run < runsPerRoute; run++) {
          const url = `${server.url}${pathFor(route.path, admin)}${query(route.path)}`
          const { type, body: payload } =
            route.method === 'GET' || route.method === 'DELETE' ? {} : body(route)
          const requestHeaders = await headers(route.method, url, admin)
          if (type) requestHeaders['content-type'] = type.replace(/[^\t\x20-\x7e]/g, '?')
          const response = await sendRaw(url, {
            method: route.method,
            headers: requestHeaders,
            ...(payload !== undefined && { body: payload }),
          })
          if (process.env.ONRAMP_FUZZ_STATS) {
            const k = `${route.method} ${route.path}`
            stats.set(k, `${stats.get(k) ?? ''} ${response.status}`)
          }
          if (response.status >= 500) {
            failures.set(
              `${route.method} ${route.path} → ${response.status}`,
              `${route.method} ${url.slice(0, 200)} ${JSON.stringify(requestHeaders).slice(0, 300)} ` +
                `${String(payload).slice(0, 200)} → ${JSON.stringify(response.body).slice(0, 300)}`,
            )
          }
          if (response.status < 300) await restore(route)
        }
      }
      if (process.env.ONRAMP_FUZZ_STATS)
        for (const [k, v] of stats)
          console.log(k.padEnd(60), [...new Set(v.trim().split(' '))].sort().join(','))
      assert.deepEqual([...failures.values()], [], `seed ${seed}: ${failures.size} routes answered 5xx`)
      assert.equal((await sendRaw(`${server.url}/healthz`, {})).status, 200)
    })
  })
