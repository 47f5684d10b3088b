import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startTestServer, type TestServer, uniqueId } from './admin-harness.ts'

describe('admin API: resources', () => {
  let server: TestServer
  let tenant: string
  before(async () => {
    server = await startTestServer()
    tenant = uniqueId('t')
    await server.admin('POST', '/tenants', { body: { id: tenant } })
  })
  after(async () => {
    await server?.close()
  })

  const path = (audience: string): string => `/tenants/${tenant}/resources/${encodeURIComponent(audience)}`

  it('creates a resource named by a URL, then reads, lists, updates and deletes it', async () => {
    const audience = 'https://api.example.com/v1/orders?region=eu'
    const created = await server.admin('POST', `/tenants/${tenant}/resources`, {
      body: {
        audience,
        name: 'Orders',
        scopes: ['orders:read'],
        allowed_clients: ['mobile'],
        allow_anonymous: true,
        authentication_modes: ['password', 'biometric'],
      },
    })
    assert.equal(created.status, 201)
    assert.deepEqual(
      { ...created.body, created_at: 0 },
      {
        audience,
        name: 'Orders',
        scopes: ['orders:read'],
        allowed_clients: ['mobile'],
        allow_anonymous: true,
        authentication_modes: ['password', 'biometric'],
        has_secret: false,
        created_at: 0,
      },
    )
    assert.deepEqual((await server.admin('GET', path(audience))).body, created.body)
    const list = await server.admin('GET', `/tenants/${tenant}/resources`)
    assert.ok(list.body.resources.some((r: { audience: string }) => r.audience === audience))

    const updated = await server.admin('PATCH', path(audience), {
      body: {
        allow_anonymous: false,
        min_acr: '1',
        access_token_ttl: 900,
        scopes: ['orders:read', 'orders:write'],
      },
    })
    assert.equal(updated.status, 200)
    assert.equal(updated.body.allow_anonymous, false)
    assert.equal(updated.body.min_acr, '1')
    assert.equal(updated.body.access_token_ttl, 900)
    assert.deepEqual(updated.body.allowed_clients, ['mobile'])
    assert.deepEqual(updated.body.authentication_modes, ['password', 'biometric'])
    assert.deepEqual((await server.admin('GET', path(audience))).body, updated.body)

    const cleared = await server.admin('PATCH', path(audience), {
      body: { min_acr: null, authentication_modes: null, access_token_ttl: null },
    })
    assert.equal(cleared.status, 200)
    for (const key of ['min_acr', 'authentication_modes', 'access_token_ttl'])
      assert.equal(key in cleared.body, false, key)
    assert.equal(cleared.body.name, 'Orders')

    assert.equal((await server.admin('DELETE', path(audience))).status, 204)
    const gone = await server.admin('GET', path(audience))
    assert.equal(gone.status, 404)
    assert.equal(gone.body.error, 'not_found')
  })

  it('gives a resource a secret to introspect with, shown once, and takes it away', async () => {
    const audience = 'https://api.example.com/introspecting'
    await server.admin('POST', `/tenants/${tenant}/resources`, { body: { audience } })
    const secretPath = `/tenants/${tenant}/resource-secrets/${encodeURIComponent(audience)}`
    const rotated = await server.admin('POST', secretPath)
    assert.equal(rotated.status, 200)
    assert.equal(rotated.body.audience, audience)
    assert.match(rotated.body.secret, /^[A-Za-z0-9_-]{43}$/)
    const shown = await server.admin('GET', path(audience))
    assert.equal(shown.body.has_secret, true)
    assert.ok(!JSON.stringify(shown.body).includes(rotated.body.secret))
    const again = await server.admin('POST', secretPath)
    assert.notEqual(again.body.secret, rotated.body.secret)

    assert.equal((await server.admin('DELETE', secretPath)).status, 204)
    assert.equal((await server.admin('GET', path(audience))).body.has_secret, false)
    const missing = `/tenants/${tenant}/resource-secrets/${encodeURIComponent('https://nope.example')}`
    assert.equal((await server.admin('POST', missing)).status, 404)
    assert.equal((await server.admin('DELETE', missing)).status, 404)
  })

  it('defaults to a closed policy', async () => {
    const created = await server.admin('POST', `/tenants/${tenant}/resources`, {
      body: { audience: 'closed-api' },
    })
    assert.equal(created.status, 201)
    assert.equal(created.body.name, 'closed-api')
    assert.deepEqual(created.body.allowed_clients, [])
    assert.equal(created.body.allow_anonymous, false)
  })

  it('addresses audiences longer than a router parameter may be', async () => {
    const audience = `https://api.example.com/${'segment/'.repeat(40)}end`
    const created = await server.admin('POST', `/tenants/${tenant}/resources`, { body: { audience } })
    assert.equal(created.status, 201)
    assert.equal((await server.admin('GET', path(audience))).body.audience, audience)
    assert.equal((await server.admin('PATCH', path(audience), { body: { name: 'Long' } })).body.name, 'Long')
    assert.equal((await server.admin('DELETE', path(audience))).status, 204)
  })

  it('refuses a duplicate audience with 409', async () => {
    const body = { audience: 'twice-api' }
    assert.equal((await server.admin('POST', `/tenants/${tenant}/resources`, { body })).status, 201)
    const again = await server.admin('POST', `/tenants/${tenant}/resources`, { body })
    assert.equal(again.status, 409)
    assert.equal(again.body.error, 'conflict')
  })

  it('answers 404 for unknown tenants and audiences', async () => {
    assert.equal((await server.admin('GET', '/tenants/no-such-tenant/resources')).status, 404)
    const create = await server.admin('POST', '/tenants/no-such-tenant/resources', {
      body: { audience: 'x' },
    })
    assert.equal(create.status, 404)
    for (const [method, body] of [
      ['GET', undefined],
      ['PATCH', { name: 'x' }],
      ['DELETE', undefined],
    ] as const) {
      const response = await server.admin(method, path('https://nowhere.example'), { body })
      assert.equal(response.status, 404, method)
      assert.equal(response.body.error, 'not_found')
    }
  })

  it('refuses invalid input with 400', async () => {
    const cases: unknown[] = [
      { audience: 'a', policy: { allow_anonymous: true } },
      { audience: 'a', allowAnonymous: true },
      { audience: 'a', allow_anonymous: 'yes' },
      { audience: 'a', authentication_modes: ['face'] },
      { audience: 'a', min_acr: 'high' },
      { audience: 'a', access_token_ttl: 0 },
      { audience: 'a', access_token_ttl: 90_000 },
      { audience: 'has space' },
      { audience: '' },
      { name: 'no audience' },
    ]
    for (const body of cases) {
      const response = await server.admin('POST', `/tenants/${tenant}/resources`, { body })
      assert.equal(response.status, 400, JSON.stringify(body))
      assert.equal(response.body.error, 'invalid_input', JSON.stringify(body))
    }
    assert.equal((await server.admin('GET', path('a'))).status, 404)
    const patch = await server.admin('PATCH', path('twice-api'), { body: { audience: 'renamed' } })
    assert.equal(patch.status, 400)
  })
})
