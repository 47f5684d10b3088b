import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { kidOf, startTestServer, type TestServer, uniqueId } from './admin-harness.ts'

describe('admin API: signing keys', () => {
  let server: TestServer
  before(async () => {
    server = await startTestServer()
  })
  after(async () => {
    await server?.close()
  })

  /** A tenant with a confidential client; its tokens default to 600 s, one resource's to 3600 s. */
  async function setUp(): Promise<{ tenant: string; token: () => Promise<string>; basic: string }> {
    const tenant = uniqueId('t')
    await server.admin('POST', '/tenants', { body: { id: tenant, settings: { access_token_ttl: 600 } } })
    await server.admin('POST', `/tenants/${tenant}/resources`, {
      body: { audience: 'slow-api', access_token_ttl: 3600 },
    })
    const client = await server.admin('POST', `/tenants/${tenant}/clients`, {
      body: { client_id: 'backend', type: 'confidential' },
    })
    const basic = `Basic ${Buffer.from(`backend:${client.body.client_secret}`).toString('base64')}`
    const token = async (): Promise<string> => {
      const response = await server.tenantRequest(tenant, 'POST', '/token', {
        form: { grant_type: 'client_credentials' },
        headers: { authorization: basic },
      })
      assert.equal(response.status, 200)
      return response.body.access_token
    }
    return { tenant, token, basic }
  }

  it('lists the active key, public facts only', async () => {
    const { tenant } = await setUp()
    const response = await server.admin('GET', `/tenants/${tenant}/keys`)
    assert.equal(response.status, 200)
    assert.equal(response.body.keys.length, 1)
    const [key] = response.body.keys
    assert.deepEqual(Object.keys(key).sort(), ['alg', 'created_at', 'kid', 'status'])
    assert.equal(key.alg, 'ES256')
    assert.equal(key.status, 'active')
  })

  it('rotates: the old key stays published for the longest token lifetime, its tokens keep working', async () => {
    const { tenant, token, basic } = await setUp()
    const before = await token()
    const oldKid = kidOf(before)

    const rotated = await server.admin('POST', `/tenants/${tenant}/keys/rotate`)
    assert.equal(rotated.status, 200)
    const newKid: string = rotated.body.kid
    assert.notEqual(newKid, oldKid)
    const statuses = new Map(rotated.body.keys.map((k: { kid: string; status: string }) => [k.kid, k.status]))
    assert.deepEqual(
      statuses,
      new Map([
        [newKid, 'active'],
        [oldKid, 'retired'],
      ]),
    )
    const retired = rotated.body.keys.find((k: { kid: string }) => k.kid === oldKid)
    // The resource's 3600 s beat the tenant's 600 s; a few seconds more cover node caches.
    const window = retired.publish_until - retired.retired_at
    assert.ok(window >= 3600 && window <= 3600 + 60, `published for ${window} s`)
    assert.deepEqual((await server.admin('GET', `/tenants/${tenant}/keys`)).body.keys, rotated.body.keys)

    const jwks = (await (await fetch(`${server.url}/t/${tenant}/jwks`)).json()) as { keys: { kid: string }[] }
    assert.deepEqual(jwks.keys.map((k) => k.kid).sort(), [newKid, oldKid].sort())

    const userinfo = await server.tenantRequest(tenant, 'GET', '/userinfo', {
      headers: { authorization: `Bearer ${before}` },
    })
    assert.equal(userinfo.status, 200)
    assert.equal(userinfo.body.sub, 'backend')
    const introspection = await server.tenantRequest(tenant, 'POST', '/introspect', {
      form: { token: before },
      headers: { authorization: basic },
    })
    assert.equal(introspection.body.active, true)

    assert.equal(kidOf(await token()), newKid)
  })

  it('rotates twice: every key whose tokens may live is still published', async () => {
    const { tenant } = await setUp()
    await server.admin('POST', `/tenants/${tenant}/keys/rotate`)
    const second = await server.admin('POST', `/tenants/${tenant}/keys/rotate`)
    assert.deepEqual(second.body.keys.map((k: { status: string }) => k.status).sort(), [
      'active',
      'retired',
      'retired',
    ])
  })

  it('answers 404 for an unknown tenant', async () => {
    assert.equal((await server.admin('GET', '/tenants/no-such-tenant/keys')).status, 404)
    const rotate = await server.admin('POST', '/tenants/no-such-tenant/keys/rotate')
    assert.equal(rotate.status, 404)
    assert.equal(rotate.body.error, 'not_found')
  })
})
