import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startTestServer, type TestServer, uniqueId } from './admin-harness.ts'

describe('admin API: tenants', () => {
  let server: TestServer
  before(async () => {
    server = await startTestServer()
  })
  after(async () => {
    await server?.close()
  })

  it('creates a tenant with default settings, then reads, lists, updates and deletes it', async () => {
    const id = uniqueId('t')
    const created = await server.admin('POST', '/tenants', { body: { id, name: 'Shop' } })
    assert.equal(created.status, 201)
    assert.deepEqual(created.body.settings, {
      access_token_ttl: 300,
      refresh_token_idle_ttl: 30 * 24 * 3600,
      refresh_token_absolute_ttl: 365 * 24 * 3600,
      dpop_nonce: false,
      offer_passkeys: false,
      anonymous_inactivity_days: 30,
      merge_policy: 'none',
      signing_alg: 'ES256',
      login_lockout: { failures: 5, window_seconds: 900, lock_seconds: 900 },
      attribute_quota: { max_value_bytes: 16384, max_count: 100, max_total_bytes: 262144 },
      upstream_providers: [],
    })
    assert.equal(created.body.id, id)
    assert.equal(created.body.name, 'Shop')
    assert.equal(typeof created.body.created_at, 'number')

    const read = await server.admin('GET', `/tenants/${id}`)
    assert.equal(read.status, 200)
    assert.deepEqual(read.body, created.body)

    const list = await server.admin('GET', '/tenants')
    assert.ok(list.body.tenants.some((t: { id: string }) => t.id === id))

    const updated = await server.admin('PATCH', `/tenants/${id}`, {
      body: { name: 'Shop 2', settings: { access_token_ttl: 600, dpop_nonce: true, offer_passkeys: true } },
    })
    assert.equal(updated.status, 200)
    assert.equal(updated.body.name, 'Shop 2')
    assert.equal(updated.body.settings.access_token_ttl, 600)
    assert.equal(updated.body.settings.dpop_nonce, true)
    assert.equal(updated.body.settings.offer_passkeys, true)
    assert.equal(updated.body.settings.refresh_token_idle_ttl, 30 * 24 * 3600)
    assert.deepEqual((await server.admin('GET', `/tenants/${id}`)).body, updated.body)

    const deleted = await server.admin('DELETE', `/tenants/${id}`)
    assert.equal(deleted.status, 204)
    assert.equal(deleted.body, undefined)
    const gone = await server.admin('GET', `/tenants/${id}`)
    assert.equal(gone.status, 404)
    assert.equal(gone.body.error, 'not_found')
  })

  it('creates a tenant with settings given at once, and serves its issuer', async () => {
    const id = uniqueId('t')
    const created = await server.admin('POST', '/tenants', {
      body: { id, settings: { access_token_ttl: 120, anonymous_inactivity_days: 7 } },
    })
    assert.equal(created.status, 201)
    assert.equal(created.body.name, id)
    assert.equal(created.body.settings.access_token_ttl, 120)
    assert.equal(created.body.settings.anonymous_inactivity_days, 7)
    const jwks = await fetch(`${server.url}/t/${id}/jwks`)
    assert.equal(jwks.status, 200)
    assert.equal(((await jwks.json()) as { keys: unknown[] }).keys.length, 1)
  })

  it('sets the merge policy, and refuses policies that do not exist', async () => {
    const id = uniqueId('t')
    const created = await server.admin('POST', '/tenants', {
      body: { id, settings: { merge_policy: 'prefer-existing' } },
    })
    assert.equal(created.status, 201)
    assert.equal(created.body.settings.merge_policy, 'prefer-existing')
    const updated = await server.admin('PATCH', `/tenants/${id}`, {
      body: { settings: { merge_policy: 'prefer-anonymous' } },
    })
    assert.equal(updated.body.settings.merge_policy, 'prefer-anonymous')
    assert.deepEqual((await server.admin('GET', `/tenants/${id}`)).body, updated.body)
    const refused = await server.admin('PATCH', `/tenants/${id}`, {
      body: { settings: { merge_policy: 'always' } },
    })
    assert.equal(refused.status, 400)
    assert.equal(refused.body.error, 'invalid_input')
  })

  it('sets the signing algorithm, rotating the key when it changes, and refuses others', async () => {
    const id = uniqueId('t')
    const created = await server.admin('POST', '/tenants', {
      body: { id, settings: { signing_alg: 'Ed25519' } },
    })
    assert.equal(created.status, 201)
    assert.equal(created.body.settings.signing_alg, 'Ed25519')
    const keys = async () => (await server.admin('GET', `/tenants/${id}/keys`)).body.keys
    const [first] = await keys()
    assert.equal(first.alg, 'Ed25519')

    // The same algorithm again changes nothing; another one makes a new active key.
    await server.admin('PATCH', `/tenants/${id}`, { body: { settings: { signing_alg: 'Ed25519' } } })
    assert.equal((await keys()).length, 1)
    const updated = await server.admin('PATCH', `/tenants/${id}`, {
      body: { settings: { signing_alg: 'ES256' } },
    })
    assert.equal(updated.status, 200)
    assert.equal(updated.body.settings.signing_alg, 'ES256')
    const after = await keys()
    assert.deepEqual(after.map((key: { alg: string; status: string }) => `${key.alg} ${key.status}`).sort(), [
      'ES256 active',
      'Ed25519 retired',
    ])

    const refused = await server.admin('PATCH', `/tenants/${id}`, {
      body: { settings: { signing_alg: 'HS256' } },
    })
    assert.equal(refused.status, 400)
    assert.equal((await keys()).length, 2)
  })

  const limitSettings: { name: string; value: Record<string, number>; refused: object[] }[] = [
    {
      name: 'login_lockout',
      value: { failures: 3, window_seconds: 300, lock_seconds: 3600 },
      refused: [
        { failures: 0, window_seconds: 300, lock_seconds: 3600 },
        { failures: 3, window_seconds: 300, lock_seconds: 86401 },
        { failures: 3, window_seconds: 300 },
        { failures: 3, window_seconds: 300, lock_seconds: 3600, extra: 1 },
        { failures: 2.5, window_seconds: 300, lock_seconds: 3600 },
      ],
    },
    {
      name: 'attribute_quota',
      value: { max_value_bytes: 1024, max_count: 10, max_total_bytes: 4096 },
      refused: [
        { max_value_bytes: 1024, max_count: 0, max_total_bytes: 4096 },
        { max_value_bytes: 1024, max_count: 10, max_total_bytes: 2 ** 24 + 1 },
        // A value larger than the total could never be stored.
        { max_value_bytes: 8192, max_count: 10, max_total_bytes: 4096 },
        { max_count: 10 },
      ],
    },
  ]
  for (const { name, value, refused } of limitSettings) {
    it(`sets ${name}, keeps it through other changes, and refuses one out of bounds`, async () => {
      const id = uniqueId('t')
      const created = await server.admin('POST', '/tenants', { body: { id, settings: { [name]: value } } })
      assert.equal(created.status, 201)
      assert.deepEqual(created.body.settings[name], value)
      const renamed = await server.admin('PATCH', `/tenants/${id}`, { body: { name: 'Renamed' } })
      assert.deepEqual(renamed.body.settings[name], value)
      for (const wrong of refused) {
        const response = await server.admin('PATCH', `/tenants/${id}`, {
          body: { settings: { [name]: wrong } },
        })
        assert.equal(response.status, 400, JSON.stringify(wrong))
      }
      assert.deepEqual((await server.admin('GET', `/tenants/${id}`)).body.settings[name], value)
    })
  }

  it('refuses a duplicate tenant with 409', async () => {
    const id = uniqueId('t')
    assert.equal((await server.admin('POST', '/tenants', { body: { id } })).status, 201)
    const again = await server.admin('POST', '/tenants', { body: { id } })
    assert.equal(again.status, 409)
    assert.equal(again.body.error, 'conflict')
  })

  it('answers 404 for an unknown tenant on every verb', async () => {
    for (const [method, body] of [
      ['GET', undefined],
      ['PATCH', { name: 'x' }],
      ['DELETE', undefined],
    ] as const) {
      const response = await server.admin(method, '/tenants/no-such-tenant', { body })
      assert.equal(response.status, 404, method)
      assert.equal(response.body.error, 'not_found')
    }
  })

  it('refuses unknown properties, at the top and nested', async () => {
    const top = await server.admin('POST', '/tenants', { body: { id: uniqueId('t'), colour: 'red' } })
    assert.equal(top.status, 400)
    assert.equal(top.body.error, 'invalid_input')
    assert.match(top.body.error_description, /unknown property "colour"/)

    const nested = await server.admin('POST', '/tenants', {
      body: { id: uniqueId('t'), settings: { accessTokenTtl: 60 } },
    })
    assert.equal(nested.status, 400)
    assert.match(nested.body.error_description, /body\.settings has unknown property "accessTokenTtl"/)

    const patch = await server.admin('PATCH', '/tenants/demo', { body: { id: 'other' } })
    assert.equal(patch.status, 400)
  })

  it('refuses bad types and bad values with 400, writing nothing', async () => {
    const id = uniqueId('t')
    const cases: unknown[] = [
      { id: 5 },
      {},
      { id: 'Upper-Case' },
      { id, name: '' },
      { id, settings: { access_token_ttl: '300' } },
      { id, settings: { access_token_ttl: 0 } },
      { id, settings: { access_token_ttl: 1.5 } },
      { id, settings: { dpop_nonce: 'yes' } },
      { id, settings: { refresh_token_idle_ttl: 100, refresh_token_absolute_ttl: 50 } },
      [id],
    ]
    for (const body of cases) {
      const response = await server.admin('POST', '/tenants', { body })
      assert.equal(response.status, 400, JSON.stringify(body))
      assert.equal(response.body.error, 'invalid_input', JSON.stringify(body))
    }
    assert.equal((await server.admin('GET', `/tenants/${id}`)).status, 404)
  })

  it('refuses a body that is not JSON', async () => {
    const response = await fetch(`${server.url}/admin/v1/tenants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' },
      body: '{"id":',
    })
    assert.equal(response.status, 400)
  })

  it('deletes everything in a tenant with it', async () => {
    const id = uniqueId('t')
    await server.admin('POST', '/tenants', { body: { id } })
    await server.admin('POST', `/tenants/${id}/clients`, { body: { client_id: 'app', type: 'public' } })
    assert.equal((await server.admin('DELETE', `/tenants/${id}`)).status, 204)
    assert.equal((await server.admin('POST', '/tenants', { body: { id } })).status, 201)
    const clients = await server.admin('GET', `/tenants/${id}/clients`)
    assert.deepEqual(clients.body.clients, [])
  })
})
