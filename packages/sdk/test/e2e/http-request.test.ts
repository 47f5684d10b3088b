import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { GrantType } from '@onramp/protocol'
import { MasterController, MemoryStorage } from '../../src/index.ts'
import { type CountingFetch, countingFetch, type Onramp, startOnramp } from '../support/onramp-fixture.ts'
import { type SampleResource, startSampleResource } from '../support/sample-resource.ts'

const nonce = { tenant: 'nonces', client: 'nonce-app', audience: 'nonce-api' } as const

describe('CreateHttpCommonRequest', () => {
  let onramp: Onramp
  let api: SampleResource
  let hanging: Server
  let hangingURL: string
  before(async () => {
    onramp = await startOnramp()
    const { tenants, clients, resources } = onramp.server.services
    await tenants.create({ id: nonce.tenant, settings: { dpopNonce: true } })
    await clients.create(nonce.tenant, {
      clientId: nonce.client,
      type: 'public',
      grantTypes: [GrantType.anonymous, GrantType.refreshToken, GrantType.tokenExchange],
    })
    await resources.create(nonce.tenant, {
      audience: nonce.audience,
      policy: { allowedClients: [nonce.client], allowAnonymous: true },
    })
    api = await startSampleResource({
      issuer: onramp.server.issuer(nonce.tenant),
      audience: nonce.audience,
      dpopNonce: true,
      encryption: true,
    })
    hanging = createServer(() => {})
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve))
    hangingURL = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/slow`
  })
  after(async () => {
    hanging?.closeAllConnections()
    hanging?.close()
    await api?.close()
    await onramp?.close()
  })

  async function loggedIn(
    tenantId: string = nonce.tenant,
    clientId: string = nonce.client,
  ): Promise<{ sdk: MasterController; counter: CountingFetch }> {
    const counter = countingFetch()
    const sdk = new MasterController({
      serverUrl: onramp.server.url,
      storage: new MemoryStorage(),
      fetch: counter.fetch,
    })
    await sdk.send({ type: 'Start', appName: 'Nonces', appVersion: '1.0.0' })
    const result = await sdk.send({
      type: 'EnrollAnonymousUser',
      tenantId,
      clientId,
      authenticationMode: 'no',
    })
    assert.equal(result.status, 'Success', result.detail)
    return { sdk, counter }
  }

  it('retries once with the nonce a server asks for, and remembers it per origin', async () => {
    const { sdk, counter } = await loggedIn()
    const token = `${onramp.server.issuer(nonce.tenant)}/token`
    assert.equal(counter.count({ urlStartsWith: token }), 2, 'use_dpop_nonce, then the enrollment')
    assert.equal((await sdk.send({ type: 'ExchangeIamToken', audience: nonce.audience })).status, 'Success')
    assert.equal(counter.count({ urlStartsWith: token }), 3, 'the exchange used the remembered nonce')

    const call = () =>
      sdk.send({
        type: 'CreateHttpCommonRequest',
        url: `${api.origin}/nonce`,
        method: 'DELETE',
        audience: nonce.audience,
      })
    const first = await call()
    assert.equal(first.httpStatus, 200, first.body)
    assert.equal(api.requests.get('/nonce'), 2, 'use_dpop_nonce, then the request')
    assert.equal((await call()).httpStatus, 200)
    assert.equal(api.requests.get('/nonce'), 3)
  })

  it('fetches the key set again and retries once when the backend’s encryption key changed', async () => {
    const { sdk } = await loggedIn()
    const jwks = '/.well-known/onramp-encryption-jwks'
    const fetchedBefore = api.requests.get(jwks) ?? 0
    const send = () =>
      sdk.send({
        type: 'CreateHttpCommonRequest',
        url: `${api.origin}/rotate`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"n":1}',
        audience: nonce.audience,
        encrypt: true,
      })
    assert.equal((await send()).httpStatus, 200)
    await api.rotateEncryptionKey()
    const after = await send()
    assert.equal(after.httpStatus, 200, after.body)
    assert.equal(JSON.parse(after.body!).body, '{"n":1}')
    assert.equal((api.requests.get(jwks) ?? 0) - fetchedBefore, 2)
  })

  it('reports EncryptionError when the backend offers no encryption key', async () => {
    const { sdk } = await loggedIn()
    const plainAPI = await startSampleResource({
      issuer: onramp.server.issuer(nonce.tenant),
      audience: nonce.audience,
    })
    try {
      const result = await sdk.send({
        type: 'CreateHttpCommonRequest',
        url: `${plainAPI.origin}/secret`,
        method: 'POST',
        body: 'x',
        audience: nonce.audience,
        encrypt: true,
      })
      assert.deepEqual([result.status, result.sdkState], ['EncryptionError', 'LoggedIn'])
    } finally {
      await plainAPI.close()
    }
  })

  it('gives up with Timeout after the request’s timeout, and NetworkError when nothing listens', async () => {
    const { sdk } = await loggedIn()
    const started = Date.now()
    const slow = await sdk.send({
      type: 'CreateHttpCommonRequest',
      url: hangingURL,
      method: 'GET',
      audience: nonce.audience,
      timeout: 300,
    })
    assert.deepEqual([slow.status, slow.sdkState], ['Timeout', 'LoggedIn'])
    assert.ok(Date.now() - started < 2000)
    const closed = await sdk.send({
      type: 'CreateHttpCommonRequest',
      url: 'http://127.0.0.1:1/nothing',
      method: 'GET',
      audience: nonce.audience,
    })
    assert.equal(closed.status, 'NetworkError')
  })

  it('hands back whatever the backend answers, headers included', async () => {
    const { sdk } = await loggedIn()
    const result = await sdk.send({
      type: 'CreateHttpCommonRequest',
      url: `${api.origin}/answer`,
      method: 'GET',
      headers: { authorization: 'Basic ignored' },
      audience: nonce.audience,
    })
    assert.equal(result.httpStatus, 200)
    assert.match(result.headers!['content-type']!, /application\/json/)
    const forbidden = await sdk.send({
      type: 'CreateHttpCommonRequest',
      url: `${onramp.server.issuer(nonce.tenant)}/userinfo`,
      method: 'GET',
      audience: nonce.audience,
    })
    assert.deepEqual([forbidden.status, forbidden.httpStatus], ['Success', 401])
  })

  it('calls the issuer’s own API with the IAM token, exchanging nothing, and only under the issuer', async () => {
    const { tenants, clients } = onramp.server.services
    await tenants.create({ id: 'own-api' })
    await clients.create('own-api', {
      clientId: 'cart-app',
      type: 'public',
      grantTypes: [GrantType.anonymous, GrantType.refreshToken],
      scopes: ['attributes:read', 'attributes:write'],
    })
    const issuer = onramp.server.issuer('own-api')
    const { sdk, counter } = await loggedIn('own-api', 'cart-app')

    const cart = `${issuer}/profile/attributes/cart`
    const put = await sdk.send({
      type: 'CreateHttpCommonRequest',
      url: cart,
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(['sku-1', 'sku-2']),
      audience: issuer,
    })
    assert.equal(put.httpStatus, 201, put.body)
    const get = await sdk.send({
      type: 'CreateHttpCommonRequest',
      url: cart,
      method: 'GET',
      audience: issuer,
    })
    assert.equal(get.httpStatus, 200, get.body)
    assert.deepEqual(JSON.parse(get.body!), ['sku-1', 'sku-2'])
    // No resource is registered for the issuer, and no exchange was asked for.
    assert.equal(counter.count({ urlStartsWith: `${issuer}/token` }), 1, 'the enrollment only')

    for (const url of [
      `${api.origin}/answer`,
      `${onramp.server.url}/t/own-api-other/profile/attributes/cart`,
    ]) {
      const elsewhere = await sdk.send({
        type: 'CreateHttpCommonRequest',
        url,
        method: 'GET',
        audience: issuer,
      })
      assert.equal(elsewhere.status, 'InvalidInput', url)
    }
  })
})
