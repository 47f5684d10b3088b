import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { GrantType } from '@onramp/protocol'
import { FileLock, FileStorage, SimulatedBiometricProvider } from '../../src/adapters/node/index.ts'
import {
  type AuthenticationMode,
  type Clock,
  type JsonValue,
  MasterController,
  MemoryStorage,
  type OnrampOptions,
  type Storage,
} from '../../src/index.ts'
import { FakeIdentityServer } from '../support/fake-identity-server.ts'
import { temporaryDirectory } from '../support/onramp-fixture.ts'

/** Storage whose next `set` calls can be made to fail. */
class FlakyStorage implements Storage {
  readonly inner = new MemoryStorage()
  failingWrites = 0
  get(key: string): Promise<JsonValue | undefined> {
    return this.inner.get(key)
  }
  async set(key: string, value: JsonValue): Promise<void> {
    if (this.failingWrites > 0) {
      this.failingWrites--
      throw new Error('disk full')
    }
    await this.inner.set(key, value)
  }
  delete(key: string): Promise<void> {
    return this.inner.delete(key)
  }
}

class ManualClock implements Clock {
  offset = 0
  now(): number {
    return Date.now() + this.offset
  }
}

interface Setup {
  server: FakeIdentityServer
  storage: Storage
  biometric: SimulatedBiometricProvider
  clock: ManualClock
  launch(options?: Partial<OnrampOptions>): Promise<MasterController>
}

function setup(storage: Storage = new MemoryStorage()): Setup {
  const server = new FakeIdentityServer()
  const biometric = new SimulatedBiometricProvider()
  const clock = new ManualClock()
  return {
    server,
    storage,
    biometric,
    clock,
    async launch(options = {}) {
      const sdk = new MasterController({
        serverUrl: server.serverUrl,
        storage,
        fetch: server.fetch,
        biometricProvider: biometric,
        clock,
        ...options,
      })
      await sdk.send({ type: 'Start', appName: 'Test', appVersion: '1.0.0' })
      return sdk
    },
  }
}

async function enroll(sdk: MasterController, mode: AuthenticationMode, password?: string): Promise<string> {
  const result = await sdk.send({
    type: 'EnrollAnonymousUser',
    tenantId: 'demo',
    clientId: 'app',
    authenticationMode: mode,
    ...(password !== undefined && { password }),
  })
  return result.status
}

describe('offline login with a password', () => {
  it('seals the secrets, counts wrong passwords across restarts and erases the enrollment at the limit', async () => {
    const { storage, launch } = setup()
    assert.equal(await enroll(await launch(), 'password', 'right'), 'Success')
    const stored = JSON.stringify(await storage.get('enrollment'))
    assert.doesNotMatch(stored, /rt-\d|"d":/, 'neither the refresh token nor the private key in the clear')
    assert.match(stored, /"iterations":600000/)

    let sdk = await launch()
    let result = await sdk.send({ type: 'OfflineLogin', password: 'wrong' })
    assert.deepEqual(
      [result.status, result.remainingAttempts, result.sdkState],
      ['WrongPassword', 4, 'LoginRequired'],
    )
    result = await sdk.send({ type: 'OfflineLogin' })
    assert.equal(result.status, 'InvalidInput', 'no password is no attempt')
    result = await sdk.send({ type: 'OfflineLogin', password: 'wrong' })
    assert.equal(result.remainingAttempts, 3)

    sdk = await launch()
    result = await sdk.send({ type: 'OfflineLogin', password: 'wrong' })
    assert.equal(result.remainingAttempts, 2, 'the count survives a restart')
    result = await sdk.send({ type: 'OfflineLogin', password: 'right' })
    assert.deepEqual([result.status, result.sdkState], ['Success', 'LoggedIn'])

    sdk = await launch()
    for (const remaining of [4, 3, 2, 1]) {
      result = await sdk.send({ type: 'OfflineLogin', password: 'wrong' })
      assert.equal(result.remainingAttempts, remaining, 'a good password reset the count')
    }
    result = await sdk.send({ type: 'OfflineLogin', password: 'wrong' })
    assert.deepEqual([result.status, result.sdkState], ['LockedOut', 'ActivationRequired'])
    assert.equal(await storage.get('enrollment'), undefined)
    result = await sdk.send({ type: 'OfflineLogin', password: 'right' })
    assert.equal(result.status, 'InvalidState')
  })

  it('locks out after the configured number of attempts', async () => {
    const { launch } = setup()
    await enroll(await launch(), 'password', 'right')
    const sdk = await launch({ maxPasswordAttempts: 2 })
    assert.equal((await sdk.send({ type: 'OfflineLogin', password: 'x' })).remainingAttempts, 1)
    assert.equal((await sdk.send({ type: 'OfflineLogin', password: 'y' })).status, 'LockedOut')
  })
})

describe('biometric mode', () => {
  it('stores nothing when the user refuses at enrollment, and stays locked when refused at login', async () => {
    const { launch, biometric, storage } = setup()
    let sdk = await launch()
    biometric.decide('deny')
    assert.equal(await enroll(sdk, 'biometric'), 'BiometricDenied')
    assert.equal(await storage.get('enrollment'), undefined)
    biometric.decide('unavailable')
    assert.equal(await enroll(sdk, 'biometric'), 'BiometricUnavailable')
    biometric.decide('approve')
    assert.equal(await enroll(sdk, 'biometric'), 'Success')

    sdk = await launch()
    biometric.decide('deny')
    let result = await sdk.send({ type: 'OfflineLogin' })
    assert.deepEqual([result.status, result.sdkState], ['BiometricDenied', 'LoginRequired'])
    biometric.decide('approve')
    result = await sdk.send({ type: 'OfflineLogin' })
    assert.deepEqual([result.status, result.sdkState], ['Success', 'LoggedIn'])
    assert.equal(biometric.prompts, 5)
  })

  it('needs a biometric provider', async () => {
    const { launch } = setup()
    assert.equal(
      await enroll(await launch({ biometricProvider: undefined }), 'biometric'),
      'BiometricUnavailable',
    )
  })

  it('cannot be opened by another authenticator', async () => {
    const { launch } = setup()
    await enroll(await launch(), 'biometric')
    const sdk = await launch({ biometricProvider: new SimulatedBiometricProvider() })
    assert.equal((await sdk.send({ type: 'OfflineLogin' })).status, 'InternalError')
  })
})

describe('offline login and refresh', () => {
  it('logs in from the cached token without the server, and from storage alone when the token expired', async () => {
    const { server, clock, launch } = setup()
    await enroll(await launch(), 'no')
    server.isDown = true
    let sdk = await launch()
    let result = await sdk.send({ type: 'OfflineLogin' })
    assert.deepEqual([result.status, result.isOffline, result.sdkState], ['Success', true, 'LoggedIn'])
    assert.equal(server.count('/token', GrantType.refreshToken), 0)

    clock.offset = 600_000
    sdk = await launch()
    result = await sdk.send({ type: 'OfflineLogin' })
    assert.deepEqual([result.status, result.isOffline], ['Success', true])
    assert.equal(server.count('/token', GrantType.refreshToken), 1, 'it tried')
    const exchanged = await sdk.send({ type: 'ExchangeIamToken', audience: 'api' })
    assert.deepEqual([exchanged.status, exchanged.sdkState], ['NetworkError', 'LoggedIn'])

    server.isDown = false
    result = await (await launch()).send({ type: 'OfflineLogin' })
    assert.deepEqual([result.status, result.isOffline], ['Success', false])
  })

  it('refreshes an expired token before exchanging it, and tells listeners', async () => {
    const { server, clock, launch } = setup()
    const sdk = await launch()
    await enroll(sdk, 'no')
    const refreshed: number[] = []
    sdk.on('TokenRefreshed', (event) => refreshed.push(event.expiresAt))
    assert.equal((await sdk.send({ type: 'ExchangeIamToken', audience: 'api' })).status, 'Success')
    assert.equal(server.count('/token', GrantType.refreshToken), 0)
    clock.offset = 290_000
    const result = await sdk.send({ type: 'ExchangeIamToken', audience: 'other' })
    assert.equal(result.status, 'Success')
    assert.equal(server.count('/token', GrantType.refreshToken), 1, 'due 30 s before expiry')
    assert.equal(refreshed.length, 1)
  })

  it('ends the session when the server refuses the refresh token', async () => {
    const { server, clock, storage, launch } = setup()
    const sdk = await launch()
    await enroll(sdk, 'no')
    server.refreshError = 'invalid_grant'
    clock.offset = 600_000
    const result = await sdk.send({ type: 'ExchangeIamToken', audience: 'api' })
    assert.deepEqual([result.status, result.sdkState], ['SessionExpired', 'ActivationRequired'])
    assert.equal(await storage.get('enrollment'), undefined)

    await enroll(sdk, 'no')
    clock.offset = 1_200_000
    const login = await (await launch()).send({ type: 'OfflineLogin' })
    assert.deepEqual([login.status, login.sdkState], ['SessionExpired', 'ActivationRequired'])
  })

  it('saves a rotated refresh token before using its access token, and retries a failed save', async () => {
    const storage = new FlakyStorage()
    const { server, clock, launch } = setup(storage)
    const sdk = await launch()
    await enroll(sdk, 'password', 'pw')
    clock.offset = 600_000
    storage.failingWrites = 1
    let result = await sdk.send({ type: 'ExchangeIamToken', audience: 'api' })
    assert.deepEqual([result.status, result.sdkState], ['StorageError', 'LoggedIn'])
    assert.equal(server.count('/token', GrantType.tokenExchange), 0, 'the new access token was not used')
    result = await sdk.send({ type: 'ExchangeIamToken', audience: 'api' })
    assert.equal(result.status, 'Success')
    assert.equal(
      server.count('/token', GrantType.refreshToken),
      1,
      'no second rotation: the save was retried',
    )

    // The stored refresh token is the rotated one: the next launch can rotate it again.
    clock.offset = 1_200_000
    const next = await launch()
    const login = await next.send({ type: 'OfflineLogin', password: 'pw' })
    assert.deepEqual([login.status, login.isOffline], ['Success', false])
  })

  it('runs concurrent refreshes as one rotation', async () => {
    const { server, clock, launch } = setup()
    const sdk = await launch()
    await enroll(sdk, 'no')
    clock.offset = 600_000
    const results = await Promise.all(
      ['a', 'b', 'c'].map((audience) => sdk.send({ type: 'ExchangeIamToken', audience })),
    )
    assert.deepEqual(
      results.map((r) => r.status),
      ['Success', 'Success', 'Success'],
    )
    assert.equal(server.count('/token', GrantType.refreshToken), 1)
  })
})

describe('several controllers on one namespace (tabs, processes)', () => {
  it('rotate the refresh token once when they refresh together, and the family lives on', async () => {
    const { server, clock, launch } = setup()
    const first = await launch()
    await enroll(first, 'no')
    const second = await launch()
    assert.equal((await second.send({ type: 'OfflineLogin' })).status, 'Success')
    const exchangeBoth = () =>
      Promise.all([first, second].map((sdk) => sdk.send({ type: 'ExchangeIamToken', audience: 'api' })))

    clock.offset = 600_000
    let results = await exchangeBoth()
    assert.deepEqual(
      results.map((r) => [r.status, r.sdkState]),
      [
        ['Success', 'LoggedIn'],
        ['Success', 'LoggedIn'],
      ],
    )
    assert.equal(server.count('/token', GrantType.refreshToken), 1, 'the second took the first one’s tokens')
    clock.offset = 1_200_000
    results = await exchangeBoth()
    assert.deepEqual(
      results.map((r) => r.status),
      ['Success', 'Success'],
    )
    assert.equal(server.count('/token', GrantType.refreshToken), 2)
  })

  it('count a wrong password without undoing a rotation saved meanwhile', async () => {
    const { server, clock, launch } = setup()
    const first = await launch()
    await enroll(first, 'password', 'right')
    const second = await launch()
    clock.offset = 600_000
    // The second reads the record, then derives the password's key while the first rotates.
    const [wrong, exchanged] = await Promise.all([
      second.send({ type: 'OfflineLogin', password: 'wrong' }),
      first.send({ type: 'ExchangeIamToken', audience: 'api' }),
    ])
    assert.deepEqual([wrong.status, wrong.remainingAttempts], ['WrongPassword', 4])
    assert.equal(exchanged.status, 'Success', exchanged.detail)

    clock.offset = 1_200_000
    const login = await (await launch()).send({ type: 'OfflineLogin', password: 'right' })
    assert.deepEqual(
      [login.status, login.isOffline],
      ['Success', false],
      'the stored refresh token is the rotated one',
    )
    assert.equal(server.count('/token', GrantType.refreshToken), 2)
  })

  it('end a session whose enrollment another one deleted, and leave its new enrollment alone', async () => {
    const { clock, storage, launch } = setup()
    const first = await launch()
    await enroll(first, 'no')
    const second = await launch()
    await second.send({ type: 'OfflineLogin' })
    await second.send({ type: 'ClearIamTokenCache', behavior: 'DeleteEnrollment' })
    assert.equal(await enroll(second, 'no'), 'Success')
    const [user] = (await second.send({ type: 'GetSdkState' })).users

    clock.offset = 600_000
    const result = await first.send({ type: 'ExchangeIamToken', audience: 'api' })
    assert.deepEqual([result.status, result.sdkState], ['SessionExpired', 'ActivationRequired'])
    assert.equal(((await storage.get('enrollment')) as { deviceId?: string })?.deviceId, user?.deviceId)
    assert.equal((await second.send({ type: 'ExchangeIamToken', audience: 'api' })).status, 'Success')
  })

  it('answer StorageError when another process holds the lock past the timeout', async () => {
    const folder = await temporaryDirectory()
    try {
      const { clock, launch } = setup(new FileStorage({ directory: folder.path, lockTimeout: 100 }))
      const sdk = await launch()
      await enroll(sdk, 'no')
      clock.offset = 600_000
      await new FileLock({ directory: folder.path }).withLock('enrollment', async () => {
        const result = await sdk.send({ type: 'ExchangeIamToken', audience: 'api' })
        assert.deepEqual([result.status, result.sdkState], ['StorageError', 'LoggedIn'])
        assert.match(result.detail!, /could not be locked: .*onramp\.enrollment\.lock is held by process \d+/)
      })
      assert.equal((await sdk.send({ type: 'ExchangeIamToken', audience: 'api' })).status, 'Success')
    } finally {
      await folder.remove()
    }
  })
})
