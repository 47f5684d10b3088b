import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startTestServer, type TestServer, uniqueId } from './admin-harness.ts'

describe('admin API: clients', () => {
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

  const clientCredentials = (clientId: string, secret: string) =>
    server.tenantRequest(tenant, 'POST', '/token', {
      form: { grant_type: 'client_credentials' },
      headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}` },
    })

  it('creates a public client, then reads, lists, updates and deletes it', async () => {
    const created = await server.admin('POST', `/tenants/${tenant}/clients`, {
      body: {
        client_id: 'mobile',
        name: 'Mobile app',
        type: 'public',
        scopes: ['attributes:read'],
        web_origins: ['https://app.example'],
        app_policy: { min_version: '2.0.0', platforms: { ios: { latest_version: '2.3' } } },
      },
    })
    assert.equal(created.status, 201)
    assert.deepEqual(
      { ...created.body, created_at: 0 },
      {
        client_id: 'mobile',
        name: 'Mobile app',
        type: 'public',
        grant_types: [
          'urn:onramp:params:oauth:grant-type:anonymous',
          'refresh_token',
          'urn:ietf:params:oauth:grant-type:token-exchange',
        ],
        scopes: ['attributes:read'],
        redirect_uris: [],
        web_origins: ['https://app.example'],
        app_policy: { min_version: '2.0.0', platforms: { ios: { latest_version: '2.3' } } },
        pkce_required: true,
        created_at: 0,
      },
    )
    assert.equal('client_secret' in created.body, false)
    assert.deepEqual((await server.admin('GET', `/tenants/${tenant}/clients/mobile`)).body, created.body)
    const list = await server.admin('GET', `/tenants/${tenant}/clients`)
    assert.deepEqual(
      list.body.clients.map((c: { client_id: string }) => c.client_id),
      ['mobile'],
    )

    const appConfig = await server.tenantRequest(tenant, 'GET', '/app-config?app_name=mobile&app_version=1.9')
    assert.equal(appConfig.body.status, 'update_necessary')

    const updated = await server.admin('PATCH', `/tenants/${tenant}/clients/mobile`, {
      body: {
        scopes: ['attributes:read', 'attributes:write'],
        redirect_uris: ['com.example.app:/callback'],
        grant_types: ['refresh_token', 'authorization_code'],
        web_origins: [],
      },
    })
    assert.equal(updated.status, 200)
    assert.deepEqual(updated.body.scopes, ['attributes:read', 'attributes:write'])
    assert.deepEqual(updated.body.redirect_uris, ['com.example.app:/callback'])
    assert.deepEqual(updated.body.grant_types, ['refresh_token', 'authorization_code'])
    assert.deepEqual(updated.body.web_origins, [])
    assert.equal(updated.body.name, 'Mobile app')
    assert.deepEqual(updated.body.app_policy, created.body.app_policy)

    const cleared = await server.admin('PATCH', `/tenants/${tenant}/clients/mobile`, {
      body: { app_policy: null },
    })
    assert.equal(cleared.status, 200)
    assert.equal('app_policy' in cleared.body, false)
    assert.equal('app_policy' in (await server.admin('GET', `/tenants/${tenant}/clients/mobile`)).body, false)

    assert.equal((await server.admin('DELETE', `/tenants/${tenant}/clients/mobile`)).status, 204)
    const gone = await server.admin('GET', `/tenants/${tenant}/clients/mobile`)
    assert.equal(gone.status, 404)
    assert.equal(gone.body.error, 'not_found')
    assert.equal((await server.admin('DELETE', `/tenants/${tenant}/clients/mobile`)).status, 404)
  })

  it('shows a confidential client secret once, and the secret works at the token endpoint', async () => {
    const created = await server.admin('POST', `/tenants/${tenant}/clients`, {
      body: { client_id: 'backend', type: 'confidential', scopes: ['orders:read'] },
    })
    assert.equal(created.status, 201)
    const secret: string = created.body.client_secret
    assert.ok(secret.length >= 40)
    assert.deepEqual(created.body.grant_types, [
      'client_credentials',
      'urn:ietf:params:oauth:grant-type:token-exchange',
    ])

    for (const response of [
      await server.admin('GET', `/tenants/${tenant}/clients/backend`),
      await server.admin('PATCH', `/tenants/${tenant}/clients/backend`, { body: { name: 'Backend' } }),
    ]) {
      assert.equal(response.status, 200)
      assert.equal(JSON.stringify(response.body).includes(secret), false)
      assert.deepEqual(
        Object.keys(response.body).filter((k) => /secret|hash/.test(k)),
        [],
      )
    }
    const listed = await server.admin('GET', `/tenants/${tenant}/clients`)
    assert.equal(JSON.stringify(listed.body).includes(secret), false)
    assert.equal(/secret|hash/i.test(JSON.stringify(listed.body)), false)

    const token = await clientCredentials('backend', secret)
    assert.equal(token.status, 200)
    assert.equal(token.body.token_type, 'Bearer')
    assert.equal(token.body.scope, 'orders:read')
    assert.equal((await clientCredentials('backend', `${secret}x`)).status, 401)
  })

  it('rotates a secret: the new one works, the old one no longer does', async () => {
    const created = await server.admin('POST', `/tenants/${tenant}/clients`, {
      body: { client_id: 'worker', type: 'confidential' },
    })
    const oldSecret: string = created.body.client_secret
    assert.equal((await clientCredentials('worker', oldSecret)).status, 200)

    const rotated = await server.admin('POST', `/tenants/${tenant}/clients/worker/secret`)
    assert.equal(rotated.status, 200)
    assert.equal(rotated.body.client_id, 'worker')
    const newSecret: string = rotated.body.client_secret
    assert.notEqual(newSecret, oldSecret)

    const refused = await clientCredentials('worker', oldSecret)
    assert.equal(refused.status, 401)
    assert.equal(refused.body.error, 'invalid_client')
    assert.equal((await clientCredentials('worker', newSecret)).status, 200)
  })

  it('refuses to rotate the secret of a public client, or of an unknown one', async () => {
    await server.admin('POST', `/tenants/${tenant}/clients`, { body: { client_id: 'spa', type: 'public' } })
    const publicClient = await server.admin('POST', `/tenants/${tenant}/clients/spa/secret`)
    assert.equal(publicClient.status, 400)
    assert.equal(publicClient.body.error, 'invalid_input')
    assert.equal((await server.admin('POST', `/tenants/${tenant}/clients/nobody/secret`)).status, 404)
  })

  it('refuses a duplicate client with 409', async () => {
    const body = { client_id: 'twice', type: 'public' }
    assert.equal((await server.admin('POST', `/tenants/${tenant}/clients`, { body })).status, 201)
    const again = await server.admin('POST', `/tenants/${tenant}/clients`, { body })
    assert.equal(again.status, 409)
    assert.equal(again.body.error, 'conflict')
  })

  it('answers 404 for clients of an unknown tenant', async () => {
    for (const [method, path, body] of [
      ['GET', '/clients', undefined],
      ['POST', '/clients', { client_id: 'x', type: 'public' }],
      ['GET', '/clients/x', undefined],
      ['PATCH', '/clients/x', { name: 'x' }],
      ['DELETE', '/clients/x', undefined],
      ['POST', '/clients/x/secret', undefined],
    ] as const) {
      const response = await server.admin(method, `/tenants/no-such-tenant${path}`, { body })
      assert.equal(response.status, 404, `${method} ${path}`)
      assert.equal(response.body.error, 'not_found')
    }
    const unknownClient = await server.admin('PATCH', `/tenants/${tenant}/clients/nobody`, {
      body: { name: 'x' },
    })
    assert.equal(unknownClient.status, 404)
  })

  it('refuses invalid input with 400', async () => {
    const cases: unknown[] = [
      { client_id: 'a', type: 'public', secret: 'mine' },
      { client_id: 'a', type: 'public', app_policy: { min_version: '1', max_version: '2' } },
      { client_id: 'a', type: 'hybrid' },
      { client_id: 'a' },
      { client_id: 'a', type: 'public', scopes: 'a b' },
      { client_id: 'a', type: 'public', scopes: ['a b'] },
      { client_id: 'a', type: 'public', grant_types: ['client_credentials'] },
      { client_id: 'a', type: 'public', redirect_uris: ['/relative'] },
      { client_id: 'a', type: 'public', app_policy: { min_version: 'latest' } },
      { client_id: 'a', type: 'public', app_policy: { platforms: { iOS: {} } } },
      { client_id: 'has space', type: 'public' },
    ]
    for (const body of cases) {
      const response = await server.admin('POST', `/tenants/${tenant}/clients`, { body })
      assert.equal(response.status, 400, JSON.stringify(body))
      assert.equal(response.body.error, 'invalid_input', JSON.stringify(body))
    }
    assert.equal((await server.admin('GET', `/tenants/${tenant}/clients/a`)).status, 404)
    const patch = await server.admin('PATCH', `/tenants/${tenant}/clients/twice`, {
      body: { type: 'confidential' },
    })
    assert.equal(patch.status, 400)
    assert.match(patch.body.error_description, /unknown property "type"/)
  })
})
