import assert from 'node:assert/strict'
import { readFile, stat } from 'node:fs/promises'
import { after, before, describe, it } from 'node:test'
import { decodeJwt } from 'jose'
import { FileStorage, SimulatedBiometricProvider } from '../../src/adapters/node/index.ts'
import {
  type AuthenticationMode,
  type DeviceKey,
  type JsonObject,
  type KeyStore,
  MasterController,
  MemoryStorage,
  SoftwareKeyStore,
} from '../../src/index.ts'
import { demo, type Onramp, startOnramp, temporaryDirectory } from '../support/onramp-fixture.ts'

describe('Start → Enroll → Restart → OfflineLogin → ExchangeIamToken → CreateHttpCommonRequest', async () => {
  let onramp: Onramp
  const folder = await temporaryDirectory()
  before(async () => {
    onramp = await startOnramp({ api: { encryption: true } })
  })
  after(async () => {
    await onramp?.close()
    await folder.remove()
  })

  const cases: { mode: AuthenticationMode; password?: string; amr: string[] }[] = [
    { mode: 'no', amr: ['anon', 'swk'] },
    { mode: 'password', password: 'correct horse battery', amr: ['anon', 'swk', 'pin'] },
    { mode: 'biometric', amr: ['anon', 'swk', 'user'] },
  ]

  for (const { mode, password, amr } of cases) {
    it(`works in mode ${mode}, across a restart on the same file`, async () => {
      const biometric = new SimulatedBiometricProvider()
      const launch = (): MasterController =>
        new MasterController({
          serverUrl: onramp.server.url,
          tenantId: demo.tenant,
          clientId: demo.client,
          platform: 'node',
          storage: new FileStorage({ directory: folder.path, namespace: `mode-${mode}` }),
          biometricProvider: biometric,
        })

      const first = launch()
      const started = await first.send({ type: 'Start', appName: 'Demo', appVersion: '1.0.0' })
      assert.deepEqual(
        [started.status, started.sdkState, started.users, started.isVersionChecked],
        ['Success', 'ActivationRequired', [], true],
      )
      const enrolled = await first.send({
        type: 'EnrollAnonymousUser',
        tenantId: demo.tenant,
        clientId: demo.client,
        authenticationMode: mode,
        ...(password !== undefined && { password }),
      })
      assert.deepEqual([enrolled.status, enrolled.sdkState], ['Success', 'LoggedIn'], enrolled.detail)

      const storage = new FileStorage({ directory: folder.path, namespace: `mode-${mode}` })
      assert.equal((await stat(storage.path)).mode & 0o777, 0o600)
      const stored = JSON.parse(await readFile(storage.path, 'utf8')).enrollment
      assert.equal(stored.sealed.format, mode === 'no' ? 'plain' : 'aes-256-gcm')

      const second = launch()
      const restarted = await second.send({ type: 'Start', appName: 'Demo', appVersion: '1.0.0' })
      assert.equal(restarted.sdkState, 'LoginRequired')
      const [user] = restarted.users
      assert.equal(user?.authenticationMode, mode)
      assert.equal(user?.isAnonymous, true)

      const login = await second.send({ type: 'OfflineLogin', userIdentifier: user.userIdentifier, password })
      assert.deepEqual(
        [login.status, login.sdkState, login.isOffline],
        ['Success', 'LoggedIn', true],
        login.detail,
      )

      const exchanged = await second.send({ type: 'ExchangeIamToken', audience: demo.audience })
      assert.equal(exchanged.status, 'Success', exchanged.detail)
      const token = exchanged.token!
      assert.equal(token.tokenType, 'DPoP')
      const claims = decodeJwt(token.accessToken)
      assert.equal(claims.aud, demo.audience)
      assert.equal(claims.sub, user.userIdentifier)
      assert.deepEqual(claims.amr, amr)
      assert.ok(token.expiresAt > Date.now() + 200_000)

      const plain = await second.send({
        type: 'CreateHttpCommonRequest',
        url: `${onramp.api.origin}/orders?page=2#top`,
        method: 'GET',
        audience: demo.audience,
      })
      assert.equal(plain.status, 'Success', plain.detail)
      assert.equal(plain.httpStatus, 200, plain.body)
      assert.deepEqual(JSON.parse(plain.body!), {
        sub: user.userIdentifier,
        method: 'GET',
        path: '/orders',
        contentType: null,
      })

      const encrypted = await second.send({
        type: 'CreateHttpCommonRequest',
        url: `${onramp.api.origin}/orders`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ item: 'tea', mode }),
        audience: demo.audience,
        encrypt: true,
      })
      assert.equal(encrypted.status, 'Success', encrypted.detail)
      assert.equal(encrypted.httpStatus, 200, encrypted.body)
      assert.match(encrypted.headers!['content-type']!, /^application\/json/)
      const echoed = JSON.parse(encrypted.body!)
      assert.equal(echoed.contentType, 'application/json')
      assert.deepEqual(JSON.parse(echoed.body), { item: 'tea', mode })

      // The device key the tokens are bound to is the one in the enrollment, across the restart.
      const bound = (claims.cnf as { jkt: string }).jkt
      const device = await onramp.server.services.store.devices.get(demo.tenant, user.deviceId)
      assert.equal(device?.jkt, bound)
      assert.equal(device?.authenticationMode, mode)
    })
  }

  it('fetches a backend’s encryption keys once, encrypts text bodies, and asks encrypted answers to GET', async () => {
    const before = onramp.api.requests.get('/.well-known/onramp-encryption-jwks') ?? 0
    const sdk = new MasterController({
      serverUrl: onramp.server.url,
      storage: new FileStorage({ directory: folder.path, namespace: 'jwks' }),
    })
    await sdk.send({ type: 'Start', appName: 'Demo', appVersion: '1.0.0' })
    await sdk.send({
      type: 'EnrollAnonymousUser',
      tenantId: demo.tenant,
      clientId: demo.client,
      authenticationMode: 'no',
    })
    for (const body of ['a', 'b']) {
      const result = await sdk.send({
        type: 'CreateHttpCommonRequest',
        url: `${onramp.api.origin}/notes`,
        method: 'PUT',
        body,
        audience: demo.audience,
        encrypt: true,
      })
      assert.equal(result.httpStatus, 200, result.body)
      assert.equal(JSON.parse(result.body!).body, body)
      assert.equal(JSON.parse(result.body!).contentType, 'text/plain;charset=UTF-8')
    }
    const get = await sdk.send({
      type: 'CreateHttpCommonRequest',
      url: `${onramp.api.origin}/notes`,
      method: 'GET',
      audience: demo.audience,
      encrypt: true,
    })
    assert.equal(get.httpStatus, 200)
    assert.equal(JSON.parse(get.body!).method, 'GET')
    assert.equal((onramp.api.requests.get('/.well-known/onramp-encryption-jwks') ?? 0) - before, 1)
  })

  it('tells the server when the key store keeps keys in hardware', async () => {
    const software = new SoftwareKeyStore()
    const hardware: KeyStore = {
      isHardwareBacked: true,
      createKey: (): Promise<DeviceKey> => software.createKey(),
      openKey: (record: JsonObject) => software.openKey(record),
      deleteKeys: () => software.deleteKeys(),
    }
    const sdk = new MasterController({
      serverUrl: onramp.server.url,
      storage: new MemoryStorage(),
      keyStore: hardware,
      biometricProvider: new SimulatedBiometricProvider(),
    })
    await sdk.send({ type: 'Start', appName: 'Demo', appVersion: '1.0.0' })
    await sdk.send({
      type: 'EnrollAnonymousUser',
      tenantId: demo.tenant,
      clientId: demo.client,
      authenticationMode: 'biometric',
    })
    const exchanged = await sdk.send({ type: 'ExchangeIamToken', audience: demo.audience })
    assert.deepEqual(decodeJwt(exchanged.token!.accessToken).amr, ['anon', 'hwk', 'user'])
    const [user] = (await sdk.send({ type: 'GetSdkState' })).users
    assert.equal(
      (await onramp.server.services.store.devices.get(demo.tenant, user!.deviceId))?.hardwareKey,
      true,
    )
  })
})
