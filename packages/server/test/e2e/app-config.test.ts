import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { assertOAuthError, type RawResponse, send } from '../support/http.ts'
import { startTestServer, type TestServer } from '../support/server.ts'

describe('app config', () => {
  let server: TestServer

  before(async () => {
    server = await startTestServer()
    await server.services.clients.create('demo', {
      clientId: 'versioned-app',
      type: 'public',
      appPolicy: {
        minVersion: '2.0.0',
        latestVersion: '2.3.0',
        platforms: {
          ios: { minVersion: '2.1.0', latestVersion: '2.4.0' },
          android: { latestVersion: '3.0.0' },
        },
      },
    })
    await server.services.clients.create('demo', { clientId: 'unversioned-app', type: 'public' })
  })
  after(() => server?.close())

  function appConfig(query: string, tenant = 'demo'): Promise<RawResponse> {
    return send(`${server.issuer(tenant)}/app-config?${query}`)
  }

  async function status(app: string, version: string, platform?: string): Promise<unknown> {
    const query = new URLSearchParams({ app_name: app, app_version: version, ...(platform && { platform }) })
    const response = await appConfig(query.toString())
    assert.equal(response.status, 200, JSON.stringify(response.body))
    return response.body
  }

  it('says ok, update_available or update_necessary against the client’s policy', async () => {
    const bounds = { min_version: '2.0.0', latest_version: '2.3.0' }
    assert.deepEqual(await status('versioned-app', '2.3.0'), { status: 'ok', ...bounds })
    assert.deepEqual(await status('versioned-app', '2.10.0'), { status: 'ok', ...bounds })
    assert.deepEqual(await status('versioned-app', '2.2.9'), { status: 'update_available', ...bounds })
    assert.deepEqual(await status('versioned-app', '2.3.0-beta.1'), { status: 'update_available', ...bounds })
    assert.deepEqual(await status('versioned-app', '2'), { status: 'update_available', ...bounds })
    assert.deepEqual(await status('versioned-app', '1.99.99'), { status: 'update_necessary', ...bounds })
  })

  it('applies a platform’s override, falling back to the overall policy for what it leaves out', async () => {
    const ios = { min_version: '2.1.0', latest_version: '2.4.0' }
    assert.deepEqual(await status('versioned-app', '2.0.5', 'ios'), { status: 'update_necessary', ...ios })
    assert.deepEqual(await status('versioned-app', '2.3.5', 'ios'), { status: 'update_available', ...ios })
    assert.deepEqual(await status('versioned-app', '2.4.0', 'ios'), { status: 'ok', ...ios })
    const android = { min_version: '2.0.0', latest_version: '3.0.0' }
    assert.deepEqual(await status('versioned-app', '2.5.0', 'android'), {
      status: 'update_available',
      ...android,
    })
    assert.deepEqual(await status('versioned-app', '1.0.0', 'android'), {
      status: 'update_necessary',
      ...android,
    })
    assert.deepEqual(await status('versioned-app', '2.3.0', 'web'), {
      status: 'ok',
      min_version: '2.0.0',
      latest_version: '2.3.0',
    })
  })

  it('says ok to any version of an app without a policy', async () => {
    assert.deepEqual(await status('unversioned-app', '0.0.1'), { status: 'ok' })
  })

  it('uses the seeded demo-app policy', async () => {
    assert.deepEqual(await status('demo-app', '1.0.0'), {
      status: 'ok',
      min_version: '1.0.0',
      latest_version: '1.0.0',
    })
    assert.equal(((await status('demo-app', '0.9')) as { status: string }).status, 'update_necessary')
  })

  it('refuses malformed versions and platforms with 400 invalid_request', async () => {
    for (const version of [
      'abc',
      '1..2',
      '',
      'v1.0.0',
      '1.2.3.4.5',
      '1.0.0-',
      `1.${'0'.repeat(100)}`,
      '1.0 ',
    ]) {
      const response = await appConfig(
        new URLSearchParams({ app_name: 'versioned-app', app_version: version }).toString(),
      )
      assertOAuthError(response, 400, 'invalid_request')
    }
    for (const platform of ['iOS', 'ios!', 'x'.repeat(40), '']) {
      const query = new URLSearchParams({ app_name: 'versioned-app', app_version: '2.0.0', platform })
      assertOAuthError(await appConfig(query.toString()), 400, 'invalid_request')
    }
    assertOAuthError(await appConfig('app_version=1.0.0'), 400, 'invalid_request')
    assertOAuthError(await appConfig('app_name=versioned-app'), 400, 'invalid_request')
    assertOAuthError(
      await appConfig('app_name=versioned-app&app_version=1.0.0&app_version=2.0.0'),
      400,
      'invalid_request',
    )
  })

  it('answers 404 for an unknown app or tenant', async () => {
    const unknownApp = await appConfig('app_name=nobody&app_version=1.0.0')
    assert.equal(unknownApp.status, 404)
    assert.equal((unknownApp.body as { error?: string }).error, 'not_found')
    const unknownTenant = await appConfig('app_name=demo-app&app_version=1.0.0', 'nope')
    assert.equal(unknownTenant.status, 404)
    assert.equal(typeof (unknownTenant.body as { error?: unknown }).error, 'string')
  })
})
