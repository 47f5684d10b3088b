import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createOnrampClient, MemoryStorage } from '../../src/index.ts'
import { FakeIdentityServer } from '../support/fake-identity-server.ts'

describe('promise facade', () => {
  it('sends the same events, with tenant and client from the options', async () => {
    const server = new FakeIdentityServer()
    const client = createOnrampClient({
      serverUrl: server.serverUrl,
      tenantId: 'demo',
      clientId: 'app',
      storage: new MemoryStorage(),
      fetch: server.fetch,
    })
    const states: string[] = []
    client.on('SdkStateChanged', (event) => states.push(event.sdkState))
    assert.equal((await client.start({ appName: 'App', appVersion: '1.0.0' })).sdkState, 'ActivationRequired')
    assert.equal((await client.enrollAnonymous({ authenticationMode: 'no' })).status, 'Success')
    const exchanged = await client.exchangeToken('api')
    assert.equal(exchanged.token?.audience, 'api')
    assert.equal((await client.exchangeToken('api', { forceUpdate: true })).status, 'Success')
    assert.equal(server.count('/token', 'urn:ietf:params:oauth:grant-type:token-exchange'), 2)
    assert.equal((await client.restart()).sdkState, 'LoginRequired')
    assert.equal((await client.offlineLogin()).isOffline, true)
    assert.equal((await client.clearTokenCache('Logout')).sdkState, 'LoginRequired')
    assert.equal((await client.getState()).users[0]?.clientId, 'app')
    assert.deepEqual(states, ['ActivationRequired', 'LoggedIn', 'LoginRequired', 'LoggedIn', 'LoginRequired'])
    assert.equal(client.controller.constructor.name, 'MasterController')
  })

  it('reports InvalidInput when neither the call nor the options name the tenant', async () => {
    const server = new FakeIdentityServer()
    const client = createOnrampClient({
      serverUrl: server.serverUrl,
      storage: new MemoryStorage(),
      fetch: server.fetch,
    })
    await client.start({ appName: 'App', appVersion: '1.0.0' })
    assert.equal((await client.enrollAnonymous({ authenticationMode: 'no' })).status, 'InvalidInput')
    const enrolled = await client.enrollAnonymous({
      authenticationMode: 'no',
      tenantId: 'demo',
      clientId: 'app',
    })
    assert.equal(enrolled.status, 'Success')
  })

  // Found by the fuzz test: a token that cannot go in a header made the backend call throw a TypeError.
  it('reports ServerError for tokens that cannot be used, instead of failing on them later', async () => {
    const server = new FakeIdentityServer()
    let answer: Record<string, unknown> | undefined
    const client = createOnrampClient({
      serverUrl: server.serverUrl,
      tenantId: 'demo',
      clientId: 'app',
      storage: new MemoryStorage(),
      fetch: async (input, init) =>
        answer && String(input).endsWith('/token') ? Response.json(answer) : server.fetch(input, init),
    })
    await client.start({ appName: 'App', appVersion: '1.0.0' })
    answer = { access_token: 'a.b.c', token_type: 'DPoP', expires_in: 300, refresh_token: 'line\nbreak' }
    assert.equal((await client.enrollAnonymous({ authenticationMode: 'no' })).status, 'ServerError')
    answer = undefined
    assert.equal((await client.enrollAnonymous({ authenticationMode: 'no' })).status, 'Success')
    for (const accessToken of ['DPoP \u0000', 'two words', '']) {
      answer = { access_token: accessToken, token_type: 'DPoP', expires_in: 300 }
      const exchanged = await client.exchangeToken('api', { forceUpdate: true })
      assert.equal(exchanged.status, 'ServerError', JSON.stringify(accessToken))
    }
  })
})
