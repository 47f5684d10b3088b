import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { GrantType } from '@onramp/protocol'
import { FileStorage } from '../../src/adapters/node/index.ts'
import { type Clock, type FetchFunction, MasterController } from '../../src/index.ts'
import { countingFetch, type Onramp, startOnramp, temporaryDirectory } from '../support/onramp-fixture.ts'
import { type SampleResource, startSampleResource } from '../support/sample-resource.ts'

const short = { tenant: 'short', client: 'short-app', audience: 'short-api' } as const

describe('tokens that expire after 2 seconds', { concurrency: true }, async () => {
  let onramp: Onramp
  let api: SampleResource
  const folder = await temporaryDirectory()
  before(async () => {
    onramp = await startOnramp()
    const { tenants, clients, resources } = onramp.server.services
    await tenants.create({ id: short.tenant })
    await tenants.update(short.tenant, { settings: { accessTokenTtl: 2 } })
    await clients.create(short.tenant, {
      clientId: short.client,
      type: 'public',
      grantTypes: [GrantType.anonymous, GrantType.refreshToken, GrantType.tokenExchange],
    })
    await resources.create(short.tenant, {
      audience: short.audience,
      policy: { allowedClients: [short.client], allowAnonymous: true },
    })
    api = await startSampleResource({
      issuer: onramp.server.issuer(short.tenant),
      audience: short.audience,
      clockTolerance: 0,
    })
  })
  after(async () => {
    await api?.close()
    await onramp?.close()
    await folder.remove()
  })

  async function enrolled(namespace: string, clock?: Clock) {
    const counter = countingFetch()
    const launch = (): MasterController =>
      new MasterController({
        serverUrl: onramp.server.url,
        storage: new FileStorage({ directory: folder.path, namespace }),
        fetch: counter.fetch,
        ...(clock && { clock }),
      })
    const sdk = launch()
    await sdk.send({ type: 'Start', appName: 'Short', appVersion: '1.0.0' })
    const result = await sdk.send({
      type: 'EnrollAnonymousUser',
      tenantId: short.tenant,
      clientId: short.client,
      authenticationMode: 'no',
    })
    assert.equal(result.status, 'Success', result.detail)
    const call = () =>
      sdk.send({
        type: 'CreateHttpCommonRequest',
        url: `${api.origin}/${namespace}`,
        method: 'GET',
        audience: short.audience,
      })
    return { sdk, counter, call, launch }
  }

  it('refreshes the IAM token and exchanges again once they are due', async () => {
    const { sdk, counter, call } = await enrolled('due')
    const refreshed: number[] = []
    sdk.on('TokenRefreshed', (event) => refreshed.push(event.expiresAt))
    assert.equal((await call()).httpStatus, 200)
    await sleep(2100)
    const later = await call()
    assert.equal(later.httpStatus, 200, later.body)
    assert.equal(counter.count({ grantType: GrantType.refreshToken }), 1)
    assert.equal(counter.count({ grantType: GrantType.tokenExchange }), 2)
    assert.equal(api.requests.get('/due'), 2, 'no request with an expired token')
    assert.equal(refreshed.length, 1)
  })

  it('refreshes at offline login when the cached token has expired', async () => {
    const { counter, launch } = await enrolled('login')
    await sleep(2100)
    const next = launch()
    await next.send({ type: 'Start', appName: 'Short', appVersion: '1.0.0' })
    const login = await next.send({ type: 'OfflineLogin' })
    assert.deepEqual([login.status, login.isOffline], ['Success', false])
    assert.equal(counter.count({ grantType: GrantType.refreshToken }), 1)
  })

  it('exchanges again, refreshing first, when the backend says the token expired', async () => {
    // A device clock that runs late: the SDK believes its tokens are fresh when they are not.
    const clock = { lag: 0, now: () => Date.now() - clock.lag }
    const { counter, call } = await enrolled('late-clock', clock)
    assert.equal((await call()).httpStatus, 200)
    await sleep(2100)
    clock.lag = 2100
    const result = await call()
    assert.equal(result.status, 'Success', result.detail)
    assert.equal(result.httpStatus, 200, result.body)
    assert.equal(api.requests.get('/late-clock'), 3, 'refused once with invalid_token, then retried')
    assert.equal(counter.count({ grantType: GrantType.refreshToken }), 1)
    assert.equal(
      counter.count({ grantType: GrantType.tokenExchange }),
      3,
      'the expired subject token was refused once',
    )
  })

  it('two controllers on one FileStorage namespace refresh together: one rotation, and both go on', async () => {
    const counter = countingFetch()
    // Refreshes take a while at the server, so both controllers are surely due and waiting at once.
    const slowRefresh: FetchFunction = async (input, init) => {
      const isRefresh = typeof init?.body === 'string' && init.body.includes('grant_type=refresh_token')
      if (isRefresh) await sleep(300)
      return counter.fetch(input, init)
    }
    const launch = async (): Promise<MasterController> => {
      const sdk = new MasterController({
        serverUrl: onramp.server.url,
        storage: new FileStorage({ directory: folder.path, namespace: 'shared' }),
        fetch: slowRefresh,
      })
      await sdk.send({ type: 'Start', appName: 'Short', appVersion: '1.0.0' })
      return sdk
    }
    const first = await launch()
    const enrolled = await first.send({
      type: 'EnrollAnonymousUser',
      tenantId: short.tenant,
      clientId: short.client,
      authenticationMode: 'no',
    })
    assert.equal(enrolled.status, 'Success', enrolled.detail)
    const second = await launch()
    const login = await second.send({ type: 'OfflineLogin' })
    assert.deepEqual([login.status, login.isOffline], ['Success', true])
    const refreshes = () => counter.count({ grantType: GrantType.refreshToken })
    const both = () =>
      Promise.all(
        [first, second].map((sdk) =>
          sdk.send({ type: 'ExchangeIamToken', audience: short.audience, forceUpdate: true }),
        ),
      )

    await sleep(2100)
    const together = await both()
    for (const result of together) assert.equal(result.status, 'Success', result.detail)
    assert.equal(refreshes(), 1, 'the second took the tokens the first saved')
    const call = (sdk: MasterController) =>
      sdk.send({
        type: 'CreateHttpCommonRequest',
        url: `${api.origin}/shared`,
        method: 'GET',
        audience: short.audience,
      })
    assert.deepEqual(
      (await Promise.all([call(first), call(second)])).map((r) => r.httpStatus),
      [200, 200],
    )

    // The family was not revoked: the next refresh, of either of them, works.
    await sleep(2100)
    const later = await both()
    for (const result of later) assert.deepEqual([result.status, result.sdkState], ['Success', 'LoggedIn'])
    assert.equal(refreshes(), 2)
  })
})
