import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startTestServer, type TestServer } from '../support/server.ts'

describe('CORS for browser apps', () => {
  let server: TestServer
  const appOrigin = 'https://shop.example'

  before(async () => {
    server = await startTestServer()
    await server.services.clients.create('demo', {
      clientId: 'web-shop',
      type: 'public',
      webOrigins: [appOrigin],
    })
  })
  after(() => server?.close())

  function preflight(origin: string, path = '/token', tenant = 'demo'): Promise<Response> {
    return fetch(`${server.issuer(tenant)}${path}`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'dpop, content-type',
      },
    })
  }

  it('answers a preflight from a registered web origin with the methods and headers the SDK sends', async () => {
    const response = await preflight(appOrigin)
    assert.equal(response.status, 204)
    assert.equal(response.headers.get('access-control-allow-origin'), appOrigin)
    assert.match(response.headers.get('access-control-allow-headers') ?? '', /\bdpop\b/)
    assert.match(response.headers.get('access-control-allow-headers') ?? '', /\bauthorization\b/)
    assert.match(response.headers.get('access-control-allow-methods') ?? '', /\bPOST\b/)
    assert.equal(response.headers.get('access-control-allow-credentials'), null)
    assert.match(response.headers.get('vary') ?? '', /origin/i)
  })

  it('allows every method the tenant’s routes answer, PATCH of a passkey’s name included', async () => {
    const response = await fetch(`${server.issuer()}/profile/passkeys/a-credential`, {
      method: 'OPTIONS',
      headers: {
        origin: appOrigin,
        'access-control-request-method': 'PATCH',
        'access-control-request-headers': 'authorization, dpop, content-type',
      },
    })
    assert.equal(response.status, 204)
    const allowed = (response.headers.get('access-control-allow-methods') ?? '').split(/,\s*/)
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])
      assert.ok(allowed.includes(method), method)
  })

  it('gives other origins and other tenants no CORS headers', async () => {
    for (const response of [
      await preflight('https://evil.example'),
      await preflight(appOrigin, '/token', 'nope'),
    ]) {
      assert.equal(response.headers.get('access-control-allow-origin'), null)
    }
    await server.services.tenants.create({ id: 'other' })
    assert.equal(
      (await preflight(appOrigin, '/token', 'other')).headers.get('access-control-allow-origin'),
      null,
    )
  })

  it('lets the page read error bodies, DPoP nonces and challenges', async () => {
    const response = await fetch(`${server.issuer()}/token`, {
      method: 'POST',
      headers: { origin: appOrigin, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=refresh_token&client_id=web-shop&refresh_token=nope',
    })
    assert.equal(response.status, 400)
    assert.equal(response.headers.get('access-control-allow-origin'), appOrigin)
    assert.match(response.headers.get('access-control-expose-headers') ?? '', /dpop-nonce/)
    assert.match(response.headers.get('access-control-expose-headers') ?? '', /www-authenticate/)
    assert.equal((await response.json()).error, 'invalid_grant')
  })

  it('follows changes to a client’s web origins at once on this node', async () => {
    const later = 'https://later.example'
    assert.equal((await preflight(later)).headers.get('access-control-allow-origin'), null)
    await server.services.clients.update('demo', 'web-shop', { webOrigins: [appOrigin, later] })
    assert.equal((await preflight(later)).headers.get('access-control-allow-origin'), later)
  })

  it('refuses web origins that are not scheme://host[:port]', async () => {
    for (const origin of [
      'https://shop.example/',
      'https://shop.example/path',
      'ftp://shop.example',
      '*',
      'shop.example',
    ]) {
      await assert.rejects(
        server.services.clients.update('demo', 'web-shop', { webOrigins: [origin] }),
        /web origin/,
      )
    }
  })
})
