import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { MasterController, MemoryStorage, type OnrampOptions } from '../../src/index.ts'
import { demo, type Onramp, startOnramp } from '../support/onramp-fixture.ts'

describe('app version check at start', () => {
  let onramp: Onramp
  before(async () => {
    onramp = await startOnramp()
    await onramp.server.services.clients.create(demo.tenant, {
      clientId: 'versioned-app',
      type: 'public',
      appPolicy: { minVersion: '2.0.0', latestVersion: '2.3.0', platforms: { ios: { minVersion: '2.1.0' } } },
    })
  })
  after(() => onramp?.close())

  function launch(options: Partial<OnrampOptions> = {}): MasterController {
    return new MasterController({
      serverUrl: onramp.server.url,
      tenantId: demo.tenant,
      clientId: 'versioned-app',
      storage: new MemoryStorage(),
      ...options,
    })
  }

  it('reports UpdateAvailable and starts', async () => {
    const result = await launch().send({ type: 'Start', appName: 'Shop', appVersion: '2.2.0' })
    assert.deepEqual(
      [result.status, result.sdkState, result.isVersionChecked, result.minVersion, result.latestVersion],
      ['UpdateAvailable', 'ActivationRequired', true, '2.0.0', '2.3.0'],
    )
  })

  it('reports UpdateNecessary and stays Uninitialised, so nothing else runs', async () => {
    const sdk = launch()
    const result = await sdk.send({ type: 'Start', appName: 'Shop', appVersion: '1.9.9' })
    assert.deepEqual([result.status, result.sdkState], ['UpdateNecessary', 'Uninitialised'])
    const enroll = await sdk.send({
      type: 'EnrollAnonymousUser',
      tenantId: demo.tenant,
      clientId: 'versioned-app',
      authenticationMode: 'no',
    })
    assert.equal(enroll.status, 'InvalidState')
    const updated = await sdk.send({ type: 'Start', appName: 'Shop', appVersion: '2.3.0' })
    assert.deepEqual([updated.status, updated.sdkState], ['Success', 'ActivationRequired'])
  })

  it('applies the platform’s policy and the configured app name', async () => {
    const ios = await launch().send({ type: 'Start', appName: 'Shop', appVersion: '2.0.5', platform: 'ios' })
    assert.equal(ios.status, 'UpdateNecessary')
    const fromOptions = await launch({ platform: 'ios' }).send({
      type: 'Start',
      appName: 'Shop',
      appVersion: '2.0.5',
    })
    assert.equal(fromOptions.status, 'UpdateNecessary')
    const named = launch({ clientId: demo.client, appConfigName: 'versioned-app' })
    assert.equal(
      (await named.send({ type: 'Start', appName: 'Shop', appVersion: '2.2.0' })).status,
      'UpdateAvailable',
    )
  })

  it('starts without a check when the server does not know the app or nothing names it', async () => {
    const unknown = await launch({ clientId: 'no-such-app' }).send({
      type: 'Start',
      appName: 'Shop',
      appVersion: '1.0.0',
    })
    assert.deepEqual([unknown.status, unknown.isVersionChecked], ['Success', false])
    const unnamed = await launch({ tenantId: undefined, clientId: undefined }).send({
      type: 'Start',
      appName: 'Shop',
      appVersion: '1.0.0',
    })
    assert.deepEqual([unnamed.status, unnamed.isVersionChecked], ['Success', false])
  })
})
