import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { GrantType } from '@onramp/protocol'
import { decodeJwt } from 'jose'
import type { Browser, Page } from 'playwright-core'
import { buildBrowserBundle } from '../../scripts/build-browser.ts'
import type { AuthenticationMode, StartResultEvent } from '../../src/index.ts'
import { demo, type Onramp, startOnramp } from '../support/onramp-fixture.ts'
import { type SampleResource, startSampleResource } from '../support/sample-resource.ts'
import {
  addPlatformAuthenticator,
  launchChromium,
  launchSdk,
  openPage,
  readStoredState,
  type StaticSite,
  send,
  skipReason,
  startStaticSite,
} from './harness.ts'

/** A tenant whose access tokens live 2 seconds: renewed after 1. */
const short = { tenant: 'short', client: 'short-web', audience: 'short-api' } as const

describe('the browser build in headless Chromium', { skip: skipReason(), timeout: 60_000 }, () => {
  let onramp: Onramp
  let site: StaticSite
  let browser: Browser
  let shortAPI: SampleResource

  before(async () => {
    browser = await launchChromium()
    const bundle = await buildBrowserBundle()
    site = await startStaticSite({ bundlePath: bundle.path })
    onramp = await startOnramp({ api: { encryption: true, corsOrigin: site.origin } })
    // The page's origin is one of the client's web origins, so the server answers CORS for it.
    const { tenants, clients, resources } = onramp.server.services
    await clients.update(demo.tenant, demo.client, { webOrigins: [site.origin] })
    await tenants.create({ id: short.tenant, settings: { accessTokenTtl: 2 } })
    await clients.create(short.tenant, {
      clientId: short.client,
      type: 'public',
      grantTypes: [GrantType.anonymous, GrantType.refreshToken, GrantType.tokenExchange],
      webOrigins: [site.origin],
    })
    await resources.create(short.tenant, {
      audience: short.audience,
      policy: { allowedClients: [short.client], allowAnonymous: true },
    })
    // With nonces: a call works only if the page can read the challenge's DPoP-Nonce (CORS).
    shortAPI = await startSampleResource({
      issuer: onramp.server.issuer(short.tenant),
      audience: short.audience,
      dpopNonce: true,
      corsOrigin: site.origin,
    })
  })
  after(async () => {
    const closed = await Promise.allSettled([
      browser?.close(),
      shortAPI?.close(),
      onramp?.close(),
      site?.close(),
    ])
    for (const result of closed) if (result.status === 'rejected') throw result.reason
  })

  /** A tab in a fresh profile: its own IndexedDB and WebAuthn environment. */
  async function newPage(): Promise<Page> {
    const context = await browser.newContext()
    return context.newPage()
  }

  /**
   * Loads the page (reloads it when it is open: an app restart, with IndexedDB kept), creates a
   * controller on the browser adapters and sends `Start`.
   */
  async function launch(
    page: Page,
    namespace: string,
    options: { biometricTimeout?: number } = {},
  ): Promise<StartResultEvent> {
    await openPage(page, site.origin)
    await launchSdk(page, {
      serverUrl: onramp.server.url,
      tenantId: demo.tenant,
      clientId: demo.client,
      namespace,
      ...options,
    })
    return send(page, { type: 'Start', appName: 'Demo', appVersion: '1.0.0' })
  }

  function enroll(page: Page, authenticationMode: AuthenticationMode, password?: string) {
    return send(page, {
      type: 'EnrollAnonymousUser',
      tenantId: demo.tenant,
      clientId: demo.client,
      authenticationMode,
      ...(password !== undefined && { password }),
    })
  }

  /**
   * ExchangeIamToken, then a plain and an encrypted call of the sample backend, which must have
   * seen DPoP-bound tokens, bound to the key pair in IndexedDB.
   */
  async function callBackend(page: Page, namespace: string): Promise<void> {
    const { keys } = await readStoredState(page, namespace)
    const jkt = keys[0]?.jkt
    assert.equal(keys.length, 1)

    const exchanged = await send(page, { type: 'ExchangeIamToken', audience: demo.audience })
    assert.equal(exchanged.status, 'Success', exchanged.detail)
    assert.equal(exchanged.token?.tokenType, 'DPoP')
    const claims = decodeJwt(exchanged.token!.accessToken)
    assert.deepEqual([claims.aud, claims.cnf], [demo.audience, { jkt }])

    const plain = await send(page, {
      type: 'CreateHttpCommonRequest',
      url: `${onramp.api.origin}/orders`,
      method: 'GET',
      audience: demo.audience,
    })
    assert.deepEqual([plain.status, plain.httpStatus], ['Success', 200], plain.detail ?? plain.body)
    assert.equal(JSON.parse(plain.body!).sub, claims.sub)

    const encrypted = await send(page, {
      type: 'CreateHttpCommonRequest',
      url: `${onramp.api.origin}/orders`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ item: 'tea' }),
      audience: demo.audience,
      encrypt: true,
    })
    assert.deepEqual(
      [encrypted.status, encrypted.httpStatus],
      ['Success', 200],
      encrypted.detail ?? encrypted.body,
    )
    assert.match(encrypted.headers?.['content-type'] ?? '', /^application\/json/)
    const echoed = JSON.parse(encrypted.body!)
    assert.deepEqual(
      [echoed.method, echoed.contentType, echoed.body],
      ['POST', 'application/json', '{"item":"tea"}'],
    )

    assert.deepEqual(onramp.api.accesses.slice(-2), [
      { path: '/orders', scheme: 'DPoP', jkt },
      { path: '/orders', scheme: 'DPoP', jkt },
    ])
  }

  describe('adapters', () => {
    it('IndexedDBStorage: JSON copies per namespace, writes in order, a failed write leaves the old record', async () => {
      const page = await newPage()
      await openPage(page, site.origin)
      const outcome = await page.evaluate(async () => {
        const { IndexedDBStorage } = window.Onramp
        const storage = new IndexedDBStorage({ namespace: 'app-1' })
        const value = { list: [1], skipped: undefined }
        await storage.set('enrollment', value)
        value.list.push(2)
        const read = (await storage.get('enrollment')) as { list: number[] }
        read.list.push(3)
        const copy = await storage.get('enrollment')
        const otherNamespace = await new IndexedDBStorage({ namespace: 'app-2' }).get('enrollment')
        const writes = Array.from({ length: 20 }, (_, i) => storage.set('counter', i))
        const readAfterWrites = storage.get('counter')
        await Promise.all(writes)
        const failed = await storage.set('enrollment', { big: 10n } as never).then(
          () => 'stored',
          (error: Error) => error.name,
        )
        await storage.delete('counter')
        return {
          copy,
          otherNamespace,
          readAfterWrites: await readAfterWrites,
          failed,
          afterFailure: await new IndexedDBStorage({ namespace: 'app-1' }).get('enrollment'),
          deleted: await storage.get('counter'),
        }
      })
      assert.deepEqual(outcome, {
        copy: { list: [1] },
        otherNamespace: undefined,
        readAfterWrites: 19,
        failed: 'TypeError',
        afterFailure: { list: [1] },
        deleted: undefined,
      })
    })

    it('BrowserKeyStore: one non-extractable pair per namespace, opened by its reference only', async () => {
      const page = await newPage()
      await openPage(page, site.origin)
      const outcome = await page.evaluate(async () => {
        const { BrowserKeyStore, calculateJKT, createDPoPProof } = window.Onramp
        const store = new BrowserKeyStore({ namespace: 'app-1' })
        const neighbour = new BrowserKeyStore({ namespace: 'app-2' })
        const first = await store.createKey()
        const kept = await neighbour.createKey()
        const second = await store.createKey()
        const opened = await new BrowserKeyStore({ namespace: 'app-1' }).openKey(second.record)
        const proof =
          opened && (await createDPoPProof(opened, { method: 'POST', url: 'https://id.example/token' }))
        const result = {
          extractable: second.keyPair.privateKey.extractable,
          sameKey:
            opened !== undefined &&
            (await calculateJKT(opened.publicKey)) === (await calculateJKT(second.keyPair.publicKey)),
          signs: typeof proof === 'string' && proof.split('.').length === 3,
          replaced: (await store.openKey(first.record)) === undefined,
          foreign: (await store.openKey({ kty: 'EC', crv: 'P-256', d: 'x' })) === undefined,
          other: (await store.openKey(kept.record)) === undefined,
          deleted: false,
          neighbourKept: false,
        }
        await store.deleteKeys()
        result.deleted = (await store.openKey(second.record)) === undefined
        result.neighbourKept = (await neighbour.openKey(kept.record)) !== undefined
        return result
      })
      assert.deepEqual(outcome, {
        extractable: false,
        sameKey: true,
        signs: true,
        replaced: true,
        foreign: true,
        other: true,
        deleted: true,
        neighbourKept: true,
      })
    })
  })

  it('mode no: Start → Enroll → reload → OfflineLogin → exchange → plain and encrypted calls', async () => {
    const page = await newPage()
    const namespace = 'mode-no'
    const started = await launch(page, namespace)
    assert.deepEqual(
      [started.status, started.sdkState, started.isVersionChecked],
      ['Success', 'ActivationRequired', true],
      started.detail,
    )
    const enrolled = await enroll(page, 'no')
    assert.deepEqual([enrolled.status, enrolled.sdkState], ['Success', 'LoggedIn'], enrolled.detail)

    const stored = await readStoredState(page, namespace)
    assert.equal(stored.enrollment?.authenticationMode, 'no')
    assert.equal(stored.enrollment?.sealed?.format, 'plain')
    assert.equal(stored.keys.length, 1)
    const [key] = stored.keys
    assert.deepEqual(key?.privateKey, {
      isCryptoKey: true,
      extractable: false,
      algorithm: 'ECDSA P-256',
      usages: ['sign'],
    })
    assert.deepEqual(key?.publicKey, { isCryptoKey: true, extractable: true })
    assert.equal(key?.exportError, 'InvalidAccessError')

    const restarted = await launch(page, namespace)
    assert.deepEqual([restarted.status, restarted.sdkState], ['Success', 'LoginRequired'], restarted.detail)
    assert.equal(restarted.users[0]?.authenticationMode, 'no')
    const login = await send(page, { type: 'OfflineLogin' })
    assert.deepEqual(
      [login.status, login.sdkState, login.isOffline],
      ['Success', 'LoggedIn', true],
      login.detail,
    )
    await callBackend(page, namespace)

    const deleted = await send(page, { type: 'ClearIamTokenCache', behavior: 'DeleteEnrollment' })
    assert.deepEqual([deleted.status, deleted.sdkState], ['Success', 'ActivationRequired'])
    assert.deepEqual(await readStoredState(page, namespace), { enrollment: undefined, keys: [] })
  })

  it('mode password: sealed in IndexedDB; a wrong password is WrongPassword, the right one logs in', async () => {
    const page = await newPage()
    const namespace = 'mode-password'
    await launch(page, namespace)
    const enrolled = await enroll(page, 'password', 'correct horse battery')
    assert.deepEqual([enrolled.status, enrolled.sdkState], ['Success', 'LoggedIn'], enrolled.detail)
    const stored = await readStoredState(page, namespace)
    assert.equal(stored.enrollment?.sealed?.format, 'aes-256-gcm')
    assert.equal(stored.keys[0]?.privateKey.extractable, false)

    assert.equal((await launch(page, namespace)).sdkState, 'LoginRequired')
    const wrong = await send(page, { type: 'OfflineLogin', password: 'wrong horse' })
    assert.deepEqual(
      [wrong.status, wrong.sdkState, wrong.remainingAttempts],
      ['WrongPassword', 'LoginRequired', 4],
      wrong.detail,
    )
    const login = await send(page, { type: 'OfflineLogin', password: 'correct horse battery' })
    assert.deepEqual([login.status, login.sdkState], ['Success', 'LoggedIn'], login.detail)
    await callBackend(page, namespace)
  })

  describe('mode biometric, with a virtual platform authenticator', () => {
    /** Whether the virtual authenticator evaluates PRF, asked with WebAuthn itself (not the SDK). */
    function evaluatesPRF(page: Page): Promise<boolean> {
      return page.evaluate(async () => {
        const random = (length: number): Uint8Array<ArrayBuffer> =>
          crypto.getRandomValues(new Uint8Array(length))
        const credential = (await navigator.credentials.create({
          publicKey: {
            rp: { name: 'probe' },
            user: { id: random(16), name: 'probe', displayName: 'probe' },
            challenge: random(32),
            pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
            authenticatorSelection: { authenticatorAttachment: 'platform', userVerification: 'required' },
            extensions: { prf: { eval: { first: random(32) } } },
          },
        })) as PublicKeyCredential
        return credential.getClientExtensionResults().prf?.enabled === true
      })
    }

    it('WebAuthn PRF unlocks the enrollment; a failed or unanswered verification is BiometricDenied', async (t) => {
      const page = await newPage()
      const namespace = 'mode-biometric'
      await openPage(page, site.origin)
      const { cdp, authenticatorId } = await addPlatformAuthenticator(page, { hasPrf: true })
      const hasPRF = await evaluatesPRF(page)
      await cdp.send('WebAuthn.clearCredentials', { authenticatorId })
      // A prompt nobody answers must end well before the test does.
      const biometricTimeout = 1500

      await launch(page, namespace, { biometricTimeout })
      const enrolled = await enroll(page, 'biometric')
      if (!hasPRF) {
        t.diagnostic("this Chromium's virtual authenticator does not evaluate PRF")
        assert.deepEqual([enrolled.status, enrolled.sdkState], ['BiometricUnavailable', 'ActivationRequired'])
        return
      }
      assert.deepEqual([enrolled.status, enrolled.sdkState], ['Success', 'LoggedIn'], enrolled.detail)
      assert.equal((await readStoredState(page, namespace)).enrollment?.sealed?.format, 'aes-256-gcm')
      assert.equal((await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials.length, 1)

      assert.equal((await launch(page, namespace, { biometricTimeout })).sdkState, 'LoginRequired')
      // The authenticator answers without verifying the user: the UV flag is off.
      await cdp.send('WebAuthn.setResponseOverrideBits', { authenticatorId, isBadUV: true })
      const unverified = await send(page, { type: 'OfflineLogin' })
      assert.deepEqual([unverified.status, unverified.sdkState], ['BiometricDenied', 'LoginRequired'])
      await cdp.send('WebAuthn.setResponseOverrideBits', { authenticatorId, isBadUV: false })
      // Nobody answers the prompt: NotAllowedError after the timeout.
      await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: false })
      const unanswered = await send(page, { type: 'OfflineLogin' })
      assert.deepEqual([unanswered.status, unanswered.sdkState], ['BiometricDenied', 'LoginRequired'])
      await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: true })

      const login = await send(page, { type: 'OfflineLogin' })
      assert.deepEqual([login.status, login.sdkState], ['Success', 'LoggedIn'], login.detail)
      await callBackend(page, namespace)

      const deleted = await send(page, { type: 'ClearIamTokenCache', behavior: 'DeleteEnrollment' })
      assert.equal(deleted.sdkState, 'ActivationRequired')
      assert.deepEqual(await readStoredState(page, namespace), { enrollment: undefined, keys: [] })
      // WebAuthn cannot delete a credential; the Signal API has the authenticator drop it.
      assert.deepEqual(await cdp.send('WebAuthn.getCredentials', { authenticatorId }), { credentials: [] })
    })

    it('an authenticator that evaluates PRF only for assertions: enrollment asks a second time', async () => {
      const page = await newPage()
      const namespace = 'mode-biometric-prf-at-get'
      // As some platform authenticators do: `create` says PRF is enabled but gives no output.
      await page.addInitScript(() => {
        const page = window as unknown as { prompts: number }
        const { credentials } = navigator
        const create = credentials.create.bind(credentials)
        const get = credentials.get.bind(credentials)
        page.prompts = 0
        credentials.create = async (options) => {
          page.prompts++
          const credential = (await create(options)) as PublicKeyCredential
          const results = credential.getClientExtensionResults()
          credential.getClientExtensionResults = () => ({
            ...results,
            prf: { enabled: results.prf?.enabled },
          })
          return credential
        }
        credentials.get = (options) => {
          page.prompts++
          return get(options)
        }
      })
      await openPage(page, site.origin)
      await addPlatformAuthenticator(page, { hasPrf: true })
      const prompts = (): Promise<number> =>
        page.evaluate(() => (window as unknown as { prompts: number }).prompts)

      await launch(page, namespace)
      const enrolled = await enroll(page, 'biometric')
      assert.deepEqual([enrolled.status, enrolled.sdkState], ['Success', 'LoggedIn'], enrolled.detail)
      assert.equal(await prompts(), 2)
      await launch(page, namespace)
      const login = await send(page, { type: 'OfflineLogin' })
      assert.deepEqual([login.status, login.sdkState], ['Success', 'LoggedIn'], login.detail)
      assert.equal(await prompts(), 1)
    })

    it('an authenticator without PRF is BiometricUnavailable, and nothing is left behind', async () => {
      const page = await newPage()
      const namespace = 'mode-biometric-no-prf'
      await openPage(page, site.origin)
      const { cdp, authenticatorId } = await addPlatformAuthenticator(page, { hasPrf: false })
      await launch(page, namespace)
      const enrolled = await enroll(page, 'biometric')
      assert.deepEqual(
        [enrolled.status, enrolled.sdkState],
        ['BiometricUnavailable', 'ActivationRequired'],
        enrolled.detail,
      )
      assert.deepEqual(await readStoredState(page, namespace), { enrollment: undefined, keys: [] })
      // The credential made before PRF turned out missing is useless: the browser was told to drop it.
      assert.deepEqual(await cdp.send('WebAuthn.getCredentials', { authenticatorId }), { credentials: [] })
    })
  })

  it('two tabs on one namespace refresh together: one rotation, and the session survives', async () => {
    // One profile, so the tabs share IndexedDB and Web Locks, as two tabs of one origin do.
    const context = await browser.newContext()
    let refreshes = 0
    await context.route(`${onramp.server.issuer(short.tenant)}/token`, async (route) => {
      if (
        route
          .request()
          .postData()
          ?.includes(`grant_type=${encodeURIComponent(GrantType.refreshToken)}`)
      ) {
        refreshes++
        // A slow server: both tabs are surely due and refreshing at once.
        await sleep(300)
      }
      await route.continue()
    })
    const tabs = [await context.newPage(), await context.newPage()] as const
    const launchTab = async (page: Page): Promise<StartResultEvent> => {
      await openPage(page, site.origin)
      await launchSdk(page, {
        serverUrl: onramp.server.url,
        tenantId: short.tenant,
        clientId: short.client,
        namespace: 'shared',
      })
      return send(page, { type: 'Start', appName: 'Short', appVersion: '1.0.0' })
    }
    await launchTab(tabs[0])
    const enrolled = await send(tabs[0], {
      type: 'EnrollAnonymousUser',
      tenantId: short.tenant,
      clientId: short.client,
      authenticationMode: 'no',
    })
    assert.equal(enrolled.status, 'Success', enrolled.detail)
    assert.equal((await launchTab(tabs[1])).sdkState, 'LoginRequired')
    const login = await send(tabs[1], { type: 'OfflineLogin' })
    assert.deepEqual([login.status, login.isOffline], ['Success', true], login.detail)

    const exchangeInBoth = () =>
      Promise.all(
        tabs.map((page) =>
          send(page, { type: 'ExchangeIamToken', audience: short.audience, forceUpdate: true }),
        ),
      )
    await sleep(2100)
    for (const result of await exchangeInBoth()) assert.equal(result.status, 'Success', result.detail)
    assert.equal(refreshes, 1, 'the second tab took the tokens the first saved')
    const calls = await Promise.all(
      tabs.map((page) =>
        send(page, {
          type: 'CreateHttpCommonRequest',
          url: `${shortAPI.origin}/shared`,
          method: 'GET',
          audience: short.audience,
        }),
      ),
    )
    assert.deepEqual(
      calls.map((r) => [r.status, r.httpStatus]),
      [
        ['Success', 200],
        ['Success', 200],
      ],
    )

    // The family was not revoked: the next refresh works in both tabs.
    await sleep(2100)
    for (const result of await exchangeInBoth())
      assert.deepEqual([result.status, result.sdkState], ['Success', 'LoggedIn'], result.detail)
    assert.equal(refreshes, 2)
    await context.close()
  })
})
