import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { GrantType } from '@onramp/protocol'
import { type AuthenticationMode, MasterController, MemoryStorage } from '../../src/index.ts'
import {
  type CountingFetch,
  countingFetch,
  demo,
  type Onramp,
  startOnramp,
} from '../support/onramp-fixture.ts'

describe('token exchange', () => {
  let onramp: Onramp
  before(async () => {
    onramp = await startOnramp()
    const { resources } = onramp.server.services
    const policy = { allowedClients: [demo.client], allowAnonymous: true }
    await resources.create(demo.tenant, { audience: 'second-api', policy })
    await resources.create(demo.tenant, { audience: 'third-api', policy })
    await resources.create(demo.tenant, {
      audience: 'biometric-only',
      policy: { ...policy, authenticationModes: ['biometric'] },
    })
  })
  after(() => onramp?.close())

  async function loggedIn(
    mode: AuthenticationMode = 'no',
  ): Promise<{ sdk: MasterController; counter: CountingFetch }> {
    const counter = countingFetch()
    const sdk = new MasterController({
      serverUrl: onramp.server.url,
      storage: new MemoryStorage(),
      fetch: counter.fetch,
    })
    await sdk.send({ type: 'Start', appName: 'Demo', appVersion: '1.0.0' })
    const result = await sdk.send({
      type: 'EnrollAnonymousUser',
      tenantId: demo.tenant,
      clientId: demo.client,
      authenticationMode: mode,
    })
    assert.equal(result.status, 'Success', result.detail)
    return { sdk, counter }
  }

  const exchanges = (counter: CountingFetch): number => counter.count({ grantType: GrantType.tokenExchange })

  it('caches the token per audience, and exchanges again on forceUpdate', async () => {
    const { sdk, counter } = await loggedIn()
    const first = await sdk.send({ type: 'ExchangeIamToken', audience: demo.audience })
    const second = await sdk.send({ type: 'ExchangeIamToken', audience: demo.audience })
    assert.equal(second.token?.accessToken, first.token?.accessToken)
    assert.equal(exchanges(counter), 1)
    const forced = await sdk.send({ type: 'ExchangeIamToken', audience: demo.audience, forceUpdate: true })
    assert.notEqual(forced.token?.accessToken, first.token?.accessToken)
    assert.equal((await sdk.send({ type: 'ExchangeIamToken', audience: demo.audience })).token, forced.token)
    assert.equal(exchanges(counter), 2)
  })

  it('coalesces concurrent exchanges for one audience into one request', async () => {
    const { sdk, counter } = await loggedIn()
    const results = await Promise.all([
      ...Array.from({ length: 5 }, () => sdk.send({ type: 'ExchangeIamToken', audience: 'second-api' })),
      ...Array.from({ length: 3 }, () => sdk.send({ type: 'ExchangeIamToken', audience: 'third-api' })),
      ...Array.from({ length: 3 }, () =>
        sdk.send({
          type: 'CreateHttpCommonRequest',
          url: `${onramp.api.origin}/concurrent`,
          method: 'GET',
          audience: demo.audience,
        }),
      ),
    ])
    assert.ok(results.every((r) => r.status === 'Success'))
    assert.equal(new Set(results.slice(0, 5).map((r) => 'token' in r && r.token?.accessToken)).size, 1)
    assert.equal(exchanges(counter), 3)
  })

  it('reports AccessDenied when the resource’s policy refuses the device', async () => {
    const { sdk } = await loggedIn('no')
    const refused = await sdk.send({ type: 'ExchangeIamToken', audience: 'biometric-only' })
    assert.deepEqual([refused.status, refused.sdkState], ['AccessDenied', 'LoggedIn'])
    assert.match(refused.detail!, /invalid_target/)
    assert.equal(
      (await sdk.send({ type: 'ExchangeIamToken', audience: 'unknown-api' })).status,
      'AccessDenied',
    )
    const request = await sdk.send({
      type: 'CreateHttpCommonRequest',
      url: `${onramp.api.origin}/x`,
      method: 'GET',
      audience: 'biometric-only',
    })
    assert.equal(request.status, 'AccessDenied')
  })

  it('ends the session when the device is revoked at the server', async () => {
    const { sdk } = await loggedIn()
    const [user] = (await sdk.send({ type: 'GetSdkState' })).users
    await onramp.server.services.devices.revoke(demo.tenant, user!.deviceId)
    const refused = await sdk.send({ type: 'ExchangeIamToken', audience: 'second-api' })
    assert.deepEqual([refused.status, refused.sdkState], ['SessionExpired', 'ActivationRequired'])
  })
})
