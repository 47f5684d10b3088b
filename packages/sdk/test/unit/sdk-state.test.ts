import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { SdkStateMachine, targetStates } from '../../src/core/sdk-state.ts'
import {
  acceptedEvents,
  MasterController,
  MemoryStorage,
  type SdkEvent,
  SdkEventTypes,
  type SdkStateChangedEvent,
} from '../../src/index.ts'
import { FakeIdentityServer } from '../support/fake-identity-server.ts'

describe('state machine', () => {
  it('accepts in each state only the events that make sense there', () => {
    assert.deepEqual(acceptedEvents('Uninitialised'), ['Start', 'GetSdkState'])
    assert.deepEqual(acceptedEvents('ActivationRequired'), [
      'EnrollAnonymousUser',
      'ClearIamTokenCache',
      'Restart',
      'GetSdkState',
    ])
    assert.deepEqual(acceptedEvents('LoginRequired'), [
      'OfflineLogin',
      'ClearIamTokenCache',
      'Restart',
      'GetSdkState',
    ])
    assert.deepEqual(acceptedEvents('LoggedIn'), [
      'ExchangeIamToken',
      'CreateHttpCommonRequest',
      'ClearIamTokenCache',
      'Login',
      'LoginCallback',
      'Restart',
      'GetSdkState',
    ])
  })

  it('moves only along the table, and reports each change once', () => {
    const changes: unknown[] = []
    const machine = new SdkStateMachine((change) => changes.push(change))
    assert.throws(() => machine.transition('EnrollAnonymousUser', 'LoggedIn'), /no transition/)
    machine.transition('Start', 'ActivationRequired')
    machine.transition('EnrollAnonymousUser', 'LoggedIn')
    machine.transition('GetSdkState', 'LoggedIn')
    assert.throws(() => machine.transition('Restart', 'LoggedIn'), /no transition/)
    assert.equal(machine.state, 'LoggedIn')
    assert.deepEqual(changes, [
      { from: 'Uninitialised', to: 'ActivationRequired', trigger: 'Start' },
      { from: 'ActivationRequired', to: 'LoggedIn', trigger: 'EnrollAnonymousUser' },
    ])
    assert.deepEqual(targetStates('LoginRequired', 'OfflineLogin'), [
      'LoginRequired',
      'LoggedIn',
      'ActivationRequired',
    ])
  })
})

describe('master controller states', () => {
  const events: { [T in SdkEvent['type']]: Extract<SdkEvent, { type: T }> } = {
    Start: { type: 'Start', appName: 'Test', appVersion: '1.0.0' },
    EnrollAnonymousUser: {
      type: 'EnrollAnonymousUser',
      tenantId: 'demo',
      clientId: 'app',
      authenticationMode: 'no',
    },
    OfflineLogin: { type: 'OfflineLogin' },
    ExchangeIamToken: { type: 'ExchangeIamToken', audience: 'api' },
    CreateHttpCommonRequest: {
      type: 'CreateHttpCommonRequest',
      url: 'https://api.example/',
      method: 'GET',
      audience: 'api',
    },
    ClearIamTokenCache: { type: 'ClearIamTokenCache', behavior: 'Logout' },
    Login: { type: 'Login', redirectUri: 'https://app.example/callback' },
    LoginCallback: { type: 'LoginCallback', callbackUrl: 'https://app.example/callback?code=c&state=s' },
    Restart: { type: 'Restart' },
    GetSdkState: { type: 'GetSdkState' },
  }

  function controller(server = new FakeIdentityServer()): MasterController {
    return new MasterController({
      serverUrl: server.serverUrl,
      tenantId: 'demo',
      clientId: 'app',
      storage: new MemoryStorage(),
      fetch: server.fetch,
    })
  }

  it('answers InvalidState to every event but Start and GetSdkState before the start', async () => {
    const sdk = controller()
    for (const type of SdkEventTypes) {
      if (type === 'Start' || type === 'GetSdkState') continue
      const result = await sdk.send(events[type])
      assert.equal(result.status, 'InvalidState', type)
      assert.equal(result.sdkState, 'Uninitialised')
    }
    assert.equal((await sdk.send(events.GetSdkState)).status, 'Success')
  })

  it('goes Uninitialised → ActivationRequired → LoggedIn → LoginRequired → LoggedIn, telling listeners', async () => {
    const sdk = controller()
    const changes: SdkStateChangedEvent[] = []
    const stop = sdk.on('SdkStateChanged', (event) => changes.push(event))
    sdk.on('SdkStateChanged', () => {
      throw new Error('a failing listener changes nothing')
    })
    assert.equal((await sdk.send(events.Start)).sdkState, 'ActivationRequired')
    assert.equal((await sdk.send(events.OfflineLogin)).status, 'InvalidState')
    assert.equal((await sdk.send(events.EnrollAnonymousUser)).sdkState, 'LoggedIn')
    assert.equal((await sdk.send(events.Start)).status, 'InvalidState')
    assert.equal((await sdk.send(events.EnrollAnonymousUser)).status, 'InvalidState')
    const restarted = await sdk.send(events.Restart)
    assert.equal(restarted.sdkState, 'LoginRequired')
    assert.equal(restarted.users.length, 1)
    assert.equal((await sdk.send(events.ExchangeIamToken)).status, 'InvalidState')
    assert.equal((await sdk.send(events.OfflineLogin)).sdkState, 'LoggedIn')
    stop()
    await sdk.send(events.Restart)
    assert.deepEqual(
      changes.map(({ previousState, sdkState, trigger }) => `${previousState}>${sdkState} ${trigger}`),
      [
        'Uninitialised>ActivationRequired Start',
        'ActivationRequired>LoggedIn EnrollAnonymousUser',
        'LoggedIn>LoginRequired Restart',
        'LoginRequired>LoggedIn OfflineLogin',
      ],
    )
  })

  it('logs out to LoginRequired and deletes the enrollment to ActivationRequired', async () => {
    const server = new FakeIdentityServer()
    const sdk = controller(server)
    await sdk.send(events.Start)
    await sdk.send(events.EnrollAnonymousUser)
    const exchanged = await sdk.send(events.ExchangeIamToken)
    assert.equal(exchanged.status, 'Success')
    assert.equal(
      (await sdk.send({ type: 'ClearIamTokenCache', behavior: 'ExchangedTokens' })).sdkState,
      'LoggedIn',
    )
    await sdk.send(events.ExchangeIamToken)
    assert.equal(server.count('/token', 'urn:ietf:params:oauth:grant-type:token-exchange'), 2)
    assert.equal((await sdk.send(events.ClearIamTokenCache)).sdkState, 'LoginRequired')
    assert.equal((await sdk.send(events.OfflineLogin)).sdkState, 'LoggedIn')
    const deleted = await sdk.send({ type: 'ClearIamTokenCache', behavior: 'DeleteEnrollment' })
    assert.equal(deleted.sdkState, 'ActivationRequired')
    assert.equal(server.count('/revoke'), 1)
    assert.deepEqual((await sdk.send(events.GetSdkState)).users, [])
    const bad = await sdk.send({ type: 'ClearIamTokenCache', behavior: 'Everything' as 'Logout' })
    assert.equal(bad.status, 'InvalidInput')
  })

  it('checks the input of events', async () => {
    const sdk = controller()
    assert.equal((await sdk.send({ type: 'Start', appName: '', appVersion: '1' })).status, 'InvalidInput')
    await sdk.send(events.Start)
    const enroll = events.EnrollAnonymousUser
    for (const bad of [
      { ...enroll, tenantId: 'Not A Tenant' },
      { ...enroll, clientId: '' },
      { ...enroll, authenticationMode: 'pin' as 'no' },
      { ...enroll, password: 'for mode no' },
      { ...enroll, authenticationMode: 'password' as const },
    ]) {
      assert.equal((await sdk.send(bad)).status, 'InvalidInput', JSON.stringify(bad))
    }
    await sdk.send(enroll)
    for (const bad of [
      { ...events.CreateHttpCommonRequest, url: 'ftp://api.example/' },
      { ...events.CreateHttpCommonRequest, url: 'not a url' },
      { ...events.CreateHttpCommonRequest, method: 'GET /' },
      { ...events.CreateHttpCommonRequest, audience: '' },
      { ...events.CreateHttpCommonRequest, timeout: -1 },
    ]) {
      assert.equal((await sdk.send(bad)).status, 'InvalidInput', JSON.stringify(bad))
    }
    assert.equal((await sdk.send({ type: 'ExchangeIamToken', audience: '' })).status, 'InvalidInput')
    await assert.rejects(sdk.send({ type: 'Launch' } as unknown as SdkEvent), TypeError)
  })

  it('refuses bad options at construction', () => {
    const storage = new MemoryStorage()
    assert.throws(() => new MasterController({ serverUrl: 'nowhere', storage }), TypeError)
    assert.throws(
      () => new MasterController({ serverUrl: 'https://id.example', storage, pbkdf2Iterations: 1000 }),
      RangeError,
    )
    assert.throws(
      () => new MasterController({ serverUrl: 'https://id.example', storage, maxPasswordAttempts: 0 }),
      RangeError,
    )
  })
})
