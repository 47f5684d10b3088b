import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startTestServer, type TestServer } from './admin-harness.ts'

describe('admin API authentication', () => {
  let server: TestServer
  before(async () => {
    server = await startTestServer()
  })
  after(async () => {
    await server?.close()
  })

  it('refuses a request without a token with 401 and a Bearer challenge', async () => {
    const response = await server.admin('GET', '/tenants', { token: null })
    assert.equal(response.status, 401)
    assert.equal(response.body.error, 'unauthorized')
    assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="onramp-admin"')
  })

  it('refuses a wrong token, of the same length or not', async () => {
    const sameLength = server.adminToken.replace(/./g, 'x')
    for (const token of [sameLength, 'short', `${server.adminToken}x`]) {
      const response = await server.admin('GET', '/tenants', { token })
      assert.equal(response.status, 401, token)
      assert.equal(response.body.error, 'unauthorized')
      assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="onramp-admin"')
    }
  })

  it('refuses the token under another scheme', async () => {
    const response = await fetch(`${server.url}/admin/v1/tenants`, {
      headers: { authorization: `Basic ${server.adminToken}` },
    })
    assert.equal(response.status, 401)
  })

  it('asks for the token before saying a path does not exist', async () => {
    assert.equal((await server.admin('GET', '/nothing-here', { token: null })).status, 401)
    const response = await server.admin('GET', '/nothing-here')
    assert.equal(response.status, 404)
    assert.equal(response.body.error, 'not_found')
  })

  it('answers the right token, uncached', async () => {
    const response = await server.admin('GET', '/tenants')
    assert.equal(response.status, 200)
    assert.ok(Array.isArray(response.body.tenants))
    assert.equal(response.headers.get('cache-control'), 'no-store')
  })

  it('serves the admin API on its own port when ONRAMP_ADMIN_PORT is set, and not on the public one', async () => {
    const separate = await startTestServer({ env: { ONRAMP_ADMIN_PORT: '0' } })
    try {
      const address = separate.runtime.adminApp?.server.address()
      assert.ok(address && typeof address === 'object')
      const headers = { authorization: `Bearer ${separate.adminToken}` }
      const admin = await fetch(`http://127.0.0.1:${address.port}/admin/v1/tenants`, { headers })
      assert.equal(admin.status, 200)
      assert.equal((await separate.admin('GET', '/tenants')).status, 404)
    } finally {
      await separate.close()
    }
  })
})
