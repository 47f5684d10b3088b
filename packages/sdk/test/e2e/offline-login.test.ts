import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { FileStorage } from '../../src/adapters/node/index.ts'
import { MasterController } from '../../src/index.ts'
import { demo, type Onramp, startOnramp, temporaryDirectory } from '../support/onramp-fixture.ts'

describe('offline login against the real server', async () => {
  let onramp: Onramp
  const folder = await temporaryDirectory()
  before(async () => {
    onramp = await startOnramp()
  })
  after(async () => {
    await onramp?.close()
    await folder.remove()
  })

  function launch(namespace: string): MasterController {
    return new MasterController({
      serverUrl: onramp.server.url,
      tenantId: demo.tenant,
      clientId: demo.client,
      storage: new FileStorage({ directory: folder.path, namespace }),
    })
  }

  async function enroll(namespace: string, password: string): Promise<void> {
    const sdk = launch(namespace)
    await sdk.send({ type: 'Start', appName: 'Demo', appVersion: '1.0.0' })
    const result = await sdk.send({
      type: 'EnrollAnonymousUser',
      tenantId: demo.tenant,
      clientId: demo.client,
      authenticationMode: 'password',
      password,
    })
    assert.equal(result.status, 'Success', result.detail)
  }

  it('refuses a wrong password with the attempts left, and takes the right one', async () => {
    await enroll('wrong-password', 'right')
    const sdk = launch('wrong-password')
    await sdk.send({ type: 'Start', appName: 'Demo', appVersion: '1.0.0' })
    const wrong = await sdk.send({ type: 'OfflineLogin', password: 'wrong' })
    assert.deepEqual(
      [wrong.status, wrong.remainingAttempts, wrong.sdkState],
      ['WrongPassword', 4, 'LoginRequired'],
    )
    const right = await sdk.send({ type: 'OfflineLogin', password: 'right' })
    assert.deepEqual([right.status, right.sdkState], ['Success', 'LoggedIn'])
    assert.equal((await sdk.send({ type: 'ExchangeIamToken', audience: demo.audience })).status, 'Success')
  })

  it('starts and logs in from the cached token while the server is down', async () => {
    await enroll('server-down', 'pw')
    await onramp.close()
    const sdk = launch('server-down')
    const started = await sdk.send({ type: 'Start', appName: 'Demo', appVersion: '1.0.0' })
    assert.deepEqual(
      [started.status, started.sdkState, started.isVersionChecked],
      ['Success', 'LoginRequired', false],
    )
    const login = await sdk.send({ type: 'OfflineLogin', password: 'pw' })
    assert.deepEqual([login.status, login.isOffline, login.sdkState], ['Success', true, 'LoggedIn'])
    const exchanged = await sdk.send({ type: 'ExchangeIamToken', audience: demo.audience })
    assert.deepEqual([exchanged.status, exchanged.sdkState], ['NetworkError', 'LoggedIn'])
  })
})
