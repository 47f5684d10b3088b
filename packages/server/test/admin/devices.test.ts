import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { enrollAnonymous, publicUrl, startTestServer, type TestServer, uniqueId } from './admin-harness.ts'

describe('admin API: devices', () => {
  let server: TestServer
  let tenant: string
  before(async () => {
    server = await startTestServer()
    tenant = uniqueId('t')
    await server.admin('POST', '/tenants', { body: { id: tenant } })
    await server.admin('POST', `/tenants/${tenant}/clients`, { body: { client_id: 'app', type: 'public' } })
  })
  after(async () => {
    await server?.close()
  })

  it('lists enrolled devices page by page, and by profile', async () => {
    const enrolled = await Promise.all([1, 2, 3].map(() => enrollAnonymous(server, tenant, 'app')))
    const ids = enrolled.map((e) => e.deviceId).sort()

    const all = await server.admin('GET', `/tenants/${tenant}/devices`)
    assert.equal(all.status, 200)
    assert.deepEqual(
      all.body.devices.map((d: { device_id: string }) => d.device_id),
      ids,
    )
    assert.equal('next' in all.body, false)
    const [device] = all.body.devices
    assert.equal(device.client_id, 'app')
    assert.equal(device.authentication_mode, 'no')
    assert.equal(device.hardware_key, false)
    assert.equal(typeof device.jkt, 'string')
    assert.equal('revoked_at' in device, false)

    const first = await server.admin('GET', `/tenants/${tenant}/devices?limit=2`)
    assert.deepEqual(
      first.body.devices.map((d: { device_id: string }) => d.device_id),
      ids.slice(0, 2),
    )
    assert.equal(first.body.next, ids[1])
    const second = await server.admin(
      'GET',
      `/tenants/${tenant}/devices?limit=2&after=${encodeURIComponent(first.body.next)}`,
    )
    assert.deepEqual(
      second.body.devices.map((d: { device_id: string }) => d.device_id),
      ids.slice(2),
    )
    assert.equal('next' in second.body, false)

    const one = await server.admin('GET', `/tenants/${tenant}/devices/${ids[0]}`)
    const byProfile = await server.admin(
      'GET',
      `/tenants/${tenant}/devices?profile_id=${encodeURIComponent(one.body.profile_id)}`,
    )
    assert.deepEqual(byProfile.body.devices, [one.body])
  })

  it('revokes a device and its grants: the refresh token and access token stop working', async () => {
    const { key, accessToken, refreshToken, deviceId } = await enrollAnonymous(server, tenant, 'app')
    const userinfo = () =>
      server.tenantRequest(tenant, 'GET', '/userinfo', {
        headers: {
          authorization: `DPoP ${accessToken}`,
          dpop: key.proof('GET', `${publicUrl}/t/${tenant}/userinfo`, accessToken),
        },
      })
    assert.equal((await userinfo()).status, 200)

    const revoked = await server.admin('POST', `/tenants/${tenant}/devices/${deviceId}/revoke`)
    assert.equal(revoked.status, 200)
    assert.deepEqual(revoked.body, { device_id: deviceId, grants_revoked: 1 })

    const device = await server.admin('GET', `/tenants/${tenant}/devices/${deviceId}`)
    assert.equal(typeof device.body.revoked_at, 'number')

    const refresh = await server.tenantRequest(tenant, 'POST', '/token', {
      form: { grant_type: 'refresh_token', client_id: 'app', refresh_token: refreshToken },
      headers: { dpop: key.proof('POST', `${publicUrl}/t/${tenant}/token`) },
    })
    assert.equal(refresh.status, 400)
    assert.equal(refresh.body.error, 'invalid_grant')
    assert.equal((await userinfo()).status, 401)

    const again = await server.admin('POST', `/tenants/${tenant}/devices/${deviceId}/revoke`)
    assert.deepEqual(again.body, { device_id: deviceId, grants_revoked: 0 })
  })

  it('answers 404 for unknown devices and tenants', async () => {
    for (const [method, path] of [
      ['GET', `/tenants/${tenant}/devices/nope`],
      ['POST', `/tenants/${tenant}/devices/nope/revoke`],
      ['GET', '/tenants/no-such-tenant/devices'],
      ['GET', '/tenants/no-such-tenant/devices/nope'],
      ['POST', '/tenants/no-such-tenant/devices/nope/revoke'],
    ] as const) {
      const response = await server.admin(method, path)
      assert.equal(response.status, 404, `${method} ${path}`)
      assert.equal(response.body.error, 'not_found')
    }
  })

  it('refuses bad paging parameters with 400', async () => {
    for (const query of ['limit=0', 'limit=1001', 'limit=ten', 'limit=-1', 'limit=1&limit=2', 'page=2']) {
      const response = await server.admin('GET', `/tenants/${tenant}/devices?${query}`)
      assert.equal(response.status, 400, query)
      assert.equal(response.body.error, 'invalid_input', query)
    }
  })
})
