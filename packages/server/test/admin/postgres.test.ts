import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { createTestDatabase, skipUnlessPostgres, type TestDatabase } from '../support/postgres.ts'
import { enrollAnonymous, kidOf, publicUrl, startTestServer, type TestServer } from './admin-harness.ts'

// Skips with the reason when PostgreSQL is down, except in CI, where the tests run and fail.
describe('admin API on PostgreSQL', { skip: await skipUnlessPostgres() }, () => {
  let database: TestDatabase
  let server: TestServer
  before(async () => {
    database = await createTestDatabase({ prefix: 'onramp_admin' })
    server = await startTestServer({
      env: { ONRAMP_DATABASE_URL: database.url, ONRAMP_MASTER_KEY: randomBytes(32).toString('hex') },
    })
  })
  after(async () => {
    await server?.close()
    await database?.drop()
  })

  it('manages a tenant with its clients, resources, devices and keys', async () => {
    const tenant = 'pg-shop'
    assert.equal((await server.admin('POST', '/tenants', { body: { id: tenant } })).status, 201)
    assert.equal((await server.admin('POST', '/tenants', { body: { id: tenant } })).status, 409)
    const patched = await server.admin('PATCH', `/tenants/${tenant}`, {
      body: { settings: { access_token_ttl: 900 } },
    })
    assert.equal(patched.body.settings.access_token_ttl, 900)

    const audience = 'https://api.example.com/orders'
    const resource = await server.admin('POST', `/tenants/${tenant}/resources`, {
      body: { audience, allowed_clients: ['app'], access_token_ttl: 1800 },
    })
    assert.equal(resource.status, 201)
    const read = await server.admin('GET', `/tenants/${tenant}/resources/${encodeURIComponent(audience)}`)
    assert.deepEqual(read.body, resource.body)

    await server.admin('POST', `/tenants/${tenant}/clients`, { body: { client_id: 'app', type: 'public' } })
    const backend = await server.admin('POST', `/tenants/${tenant}/clients`, {
      body: { client_id: 'backend', type: 'confidential' },
    })
    const basic = `Basic ${Buffer.from(`backend:${backend.body.client_secret}`).toString('base64')}`
    const issued = await server.tenantRequest(tenant, 'POST', '/token', {
      form: { grant_type: 'client_credentials' },
      headers: { authorization: basic },
    })
    assert.equal(issued.status, 200)

    const { key, refreshToken, deviceId } = await enrollAnonymous(server, tenant, 'app')
    await enrollAnonymous(server, tenant, 'app')
    const page = await server.admin('GET', `/tenants/${tenant}/devices?limit=1`)
    assert.equal(page.body.devices.length, 1)
    assert.equal(typeof page.body.next, 'string')
    const revoked = await server.admin('POST', `/tenants/${tenant}/devices/${deviceId}/revoke`)
    assert.equal(revoked.body.grants_revoked, 1)
    const refresh = await server.tenantRequest(tenant, 'POST', '/token', {
      form: { grant_type: 'refresh_token', client_id: 'app', refresh_token: refreshToken },
      headers: { dpop: key.proof('POST', `${publicUrl}/t/${tenant}/token`) },
    })
    assert.equal(refresh.body.error, 'invalid_grant')

    const rotated = await server.admin('POST', `/tenants/${tenant}/keys/rotate`)
    assert.equal(rotated.status, 200)
    const retired = rotated.body.keys.find((k: { kid: string }) => k.kid === kidOf(issued.body.access_token))
    assert.equal(retired.status, 'retired')
    assert.ok(retired.publish_until - retired.retired_at >= 1800)
    const userinfo = await server.tenantRequest(tenant, 'GET', '/userinfo', {
      headers: { authorization: `Bearer ${issued.body.access_token}` },
    })
    assert.equal(userinfo.status, 200)

    // Names PostgreSQL cannot hold (a NUL byte) are unknown, not a database error.
    const nul = encodeURIComponent('a\u0000b')
    for (const [method, path] of [
      ['GET', `/tenants/${nul}`],
      ['PATCH', `/tenants/${nul}`],
      ['DELETE', `/tenants/${nul}`],
      ['GET', `/tenants/${tenant}/resources/${nul}`],
      ['PATCH', `/tenants/${tenant}/resources/${nul}`],
      ['DELETE', `/tenants/${tenant}/resources/${nul}`],
      ['POST', `/tenants/${tenant}/resource-secrets/${nul}`],
      ['DELETE', `/tenants/${tenant}/resource-secrets/${nul}`],
      ['GET', `/tenants/${tenant}/clients/${nul}`],
      ['PATCH', `/tenants/${tenant}/clients/${nul}`],
      ['DELETE', `/tenants/${tenant}/clients/${nul}`],
      ['POST', `/tenants/${tenant}/clients/${nul}/secret`],
      ['GET', `/tenants/${tenant}/devices/${nul}`],
      ['POST', `/tenants/${tenant}/devices/${nul}/revoke`],
    ] as const) {
      const response = await server.admin(method, path, method === 'PATCH' ? { body: { name: 'x' } } : {})
      assert.ok(
        [400, 404].includes(response.status),
        `${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`,
      )
    }

    for (const [method, path, body] of [
      ['POST', '/tenants', { id: 'pg-named', name: 'a\u0000b' }],
      ['PATCH', `/tenants/${tenant}`, { name: 'a\u0000b' }],
      ['POST', `/tenants/${tenant}/clients`, { client_id: 'named', type: 'public', name: 'a\u0000b' }],
      ['POST', `/tenants/${tenant}/resources`, { audience: 'named', name: 'a\u0000b' }],
    ] as const) {
      const response = await server.admin(method, path, { body })
      assert.equal(response.status, 400, `${method} ${path}: ${JSON.stringify(response.body)}`)
    }

    assert.equal((await server.admin('DELETE', `/tenants/${tenant}`)).status, 204)
    assert.equal((await server.admin('GET', `/tenants/${tenant}/devices`)).status, 404)
  })
})
