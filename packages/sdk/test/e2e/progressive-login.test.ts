import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { decodeJwt } from 'jose'
import {
  Browser,
  type Credentials,
  enableHostedLogin,
  logIn,
  newCredentials,
  redirectUri,
  submitPassword,
} from '../../../server/test/support/hosted-login.ts'
import {
  createDPoPProof,
  createOnrampClient,
  type IdentityChangedEvent,
  MasterController,
  MemoryStorage,
  SoftwareKeyStore,
} from '../../src/index.ts'
import { demo, type Onramp, startOnramp } from '../support/onramp-fixture.ts'

/** What mode `no` keeps in the clear: the tokens and the device key. */
interface StoredSecrets {
  refreshToken: string
  accessToken: string
  deviceKey: Record<string, string>
}

describe('progressive sign-in (Login, LoginCallback)', () => {
  let onramp: Onramp
  let issuer: string
  before(async () => {
    onramp = await startOnramp()
    issuer = onramp.server.issuer(demo.tenant)
    await enableHostedLogin(onramp.server.services, demo.tenant, demo.client)
  })
  after(() => onramp?.close())

  async function enrolled(): Promise<{ sdk: MasterController; storage: MemoryStorage }> {
    const storage = new MemoryStorage()
    const sdk = new MasterController({ serverUrl: onramp.server.url, storage })
    await sdk.send({ type: 'Start', appName: 'Demo', appVersion: '1.0.0' })
    const result = await sdk.send({
      type: 'EnrollAnonymousUser',
      tenantId: demo.tenant,
      clientId: demo.client,
      authenticationMode: 'no',
    })
    assert.equal(result.status, 'Success', result.detail)
    return { sdk, storage }
  }

  async function secretsOf(storage: MemoryStorage): Promise<StoredSecrets> {
    const record = (await storage.get('enrollment')) as unknown as { sealed: { secrets: StoredSecrets } }
    return record.sealed.secrets
  }

  /** The hosted login in a browser of its own, up to the redirect to the app (not followed). */
  async function signIn(
    authorizationUrl: string,
    credentials: Credentials,
    signUp: boolean,
  ): Promise<string> {
    const callback = await logIn(new Browser(onramp.server.url), authorizationUrl, credentials, { signUp })
    assert.equal(`${callback.origin}${callback.pathname}`, redirectUri)
    return callback.toString()
  }

  /** A call with the device key's proof, as a test-side client. */
  async function withProof(
    secrets: StoredSecrets,
    url: string,
    init: { method: string; body?: string; contentType?: string; accessToken?: string },
  ): Promise<Response> {
    const keyPair = await new SoftwareKeyStore().openKey(secrets.deviceKey)
    assert.ok(keyPair)
    const proof = await createDPoPProof(keyPair, {
      method: init.method,
      url,
      ...(init.accessToken !== undefined && { accessToken: init.accessToken }),
    })
    return fetch(url, {
      method: init.method,
      headers: {
        dpop: proof,
        ...(init.accessToken !== undefined && { authorization: `DPoP ${init.accessToken}` }),
        ...(init.contentType !== undefined && { 'content-type': init.contentType }),
      },
      ...(init.body !== undefined && { body: init.body }),
    })
  }

  it('signs up from an anonymous profile: same sub and key, acr 1, anonymous tokens dropped', async () => {
    const { sdk, storage } = await enrolled()
    const anonymous = await secretsOf(storage)
    const anonymousClaims = decodeJwt(anonymous.accessToken)
    assert.equal(anonymousClaims.acr, '0')
    const put = await withProof(anonymous, `${issuer}/profile/attributes/cart`, {
      method: 'PUT',
      body: JSON.stringify({ items: 2 }),
      contentType: 'application/json',
      accessToken: anonymous.accessToken,
    })
    assert.equal(put.status, 201, await put.text())
    const anonymousExchange = await sdk.send({ type: 'ExchangeIamToken', audience: demo.audience })
    assert.equal(anonymousExchange.status, 'Success', anonymousExchange.detail)
    const identities: IdentityChangedEvent[] = []
    sdk.on('IdentityChanged', (event) => identities.push(event))

    const login = await sdk.send({ type: 'Login', redirectUri, prompt: 'create' })
    assert.equal(login.status, 'RedirectRequired', login.detail)
    assert.equal(login.sdkState, 'LoggedIn')
    const authorizationUrl = new URL(login.authorizationUrl!)
    assert.equal(`${authorizationUrl.origin}${authorizationUrl.pathname}`, `${issuer}/authorize`)
    assert.equal(authorizationUrl.searchParams.get('client_id'), demo.client)
    assert.match(
      authorizationUrl.searchParams.get('request_uri') ?? '',
      /^urn:ietf:params:oauth:request_uri:/,
    )
    assert.equal(authorizationUrl.searchParams.get('anonymous_token'), null)

    const callbackUrl = await signIn(login.authorizationUrl!, newCredentials(), true)
    const result = await sdk.send({ type: 'LoginCallback', callbackUrl })
    assert.equal(result.status, 'Success', result.detail)
    assert.equal(result.sdkState, 'LoggedIn')
    assert.equal(result.isProfileKept, true)
    assert.equal(result.user?.isAnonymous, false)
    assert.equal(result.user?.userIdentifier, anonymousClaims.sub)
    assert.deepEqual(identities, [
      {
        type: 'IdentityChanged',
        userIdentifier: anonymousClaims.sub,
        previousUserIdentifier: anonymousClaims.sub,
        isAnonymous: false,
        isProfileKept: true,
      },
    ])

    // The record holds the person's tokens, bound to the same device key.
    const identified = await secretsOf(storage)
    assert.notEqual(identified.refreshToken, anonymous.refreshToken)
    assert.deepEqual(identified.deviceKey, anonymous.deviceKey)
    const claims = decodeJwt(identified.accessToken)
    assert.equal(claims.acr, '1')
    assert.equal(claims.sub, anonymousClaims.sub)
    assert.deepEqual(claims.cnf, anonymousClaims.cnf)
    const state = await sdk.send({ type: 'GetSdkState' })
    assert.equal(state.users[0]?.isAnonymous, false)
    assert.equal(state.users[0]?.userIdentifier, claims.sub)

    // The anonymous refresh token is dead; the person's works.
    const refresh = await withProof(anonymous, `${issuer}/token`, {
      method: 'POST',
      contentType: 'application/x-www-form-urlencoded',
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: anonymous.refreshToken,
        client_id: demo.client,
      }).toString(),
    })
    assert.equal(refresh.status, 400)
    assert.equal(((await refresh.json()) as { error: string }).error, 'invalid_grant')

    // The exchanged tokens of the anonymous identity were dropped: the next exchange is the person's.
    const exchange = await sdk.send({ type: 'ExchangeIamToken', audience: demo.audience })
    assert.equal(exchange.status, 'Success', exchange.detail)
    assert.notEqual(exchange.token?.accessToken, anonymousExchange.token?.accessToken)
    assert.equal(decodeJwt(exchange.token!.accessToken).sub, claims.sub)

    // Attributes of the anonymous profile stay with it.
    const cart = await withProof(identified, `${issuer}/profile/attributes/cart`, {
      method: 'GET',
      accessToken: identified.accessToken,
    })
    assert.equal(cart.status, 200)
    assert.deepEqual(await cart.json(), { items: 2 })

    // Restarted: the stored record is the person's.
    const restarted = await sdk.send({ type: 'Restart' })
    assert.equal(restarted.users[0]?.isAnonymous, false)
    const offline = await sdk.send({ type: 'OfflineLogin' })
    assert.equal(offline.status, 'Success', offline.detail)
    const afterRestart = await sdk.send({ type: 'ExchangeIamToken', audience: demo.audience })
    assert.equal(afterRestart.status, 'Success', afterRestart.detail)
  })

  /** An enrollment a person signed up on, with its credentials. */
  async function signedUp(): Promise<{
    sdk: MasterController
    storage: MemoryStorage
    credentials: Credentials
  }> {
    const { sdk, storage } = await enrolled()
    const credentials = newCredentials()
    const login = await sdk.send({ type: 'Login', redirectUri, prompt: 'create' })
    const callbackUrl = await signIn(login.authorizationUrl!, credentials, true)
    const result = await sdk.send({ type: 'LoginCallback', callbackUrl })
    assert.equal(result.status, 'Success', result.detail)
    return { sdk, storage, credentials }
  }

  /** A refresh with the device key's proof: the server's answer. */
  async function refreshWith(secrets: StoredSecrets): Promise<Response> {
    return withProof(secrets, `${issuer}/token`, {
      method: 'POST',
      contentType: 'application/x-www-form-urlencoded',
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: secrets.refreshToken,
        client_id: demo.client,
      }).toString(),
    })
  }

  it('signs a person in again on their enrollment: same sub and device, the earlier family revoked', async () => {
    const { sdk, storage, credentials } = await signedUp()
    const before = await secretsOf(storage)
    const person = decodeJwt(before.accessToken)
    const { deviceId } = (await sdk.send({ type: 'GetSdkState' })).users[0]!
    const identities: IdentityChangedEvent[] = []
    sdk.on('IdentityChanged', (event) => identities.push(event))

    const login = await sdk.send({ type: 'Login', redirectUri, prompt: 'login' })
    assert.equal(login.status, 'RedirectRequired', login.detail)
    const result = await sdk.send({
      type: 'LoginCallback',
      callbackUrl: await signIn(login.authorizationUrl!, credentials, false),
    })
    assert.equal(result.status, 'Success', result.detail)
    assert.equal(result.isProfileKept, true)
    assert.equal(result.user?.userIdentifier, person.sub)
    assert.equal(result.user?.deviceId, deviceId)
    assert.deepEqual(identities, [], 'the same identity: no IdentityChanged')

    const after = await secretsOf(storage)
    const claims = decodeJwt(after.accessToken)
    assert.notEqual(claims.sid, person.sid)
    assert.deepEqual(claims.cnf, person.cnf)
    const grant = await onramp.server.services.store.grants.get(demo.tenant, String(claims.sid))
    assert.equal(grant?.deviceId, deviceId)
    assert.equal((await refreshWith(before)).status, 400)
    assert.equal((await sdk.send({ type: 'ExchangeIamToken', audience: demo.audience })).status, 'Success')
  })

  it('asks the hosted login to add a passkey after the sign-in (action add_passkey)', async () => {
    const { sdk, credentials } = await signedUp()
    const userIdentifier = (await sdk.send({ type: 'GetSdkState' })).users[0]!.userIdentifier
    const login = await sdk.send({ type: 'Login', redirectUri, action: 'add_passkey' })
    assert.equal(login.status, 'RedirectRequired', login.detail)
    const browser = new Browser(onramp.server.url)
    const offer = await submitPassword(browser, login.authorizationUrl!, credentials)
    assert.equal(offer.status, 200, offer.body)
    assert.match(offer.body, /<h1>Add a passkey<\/h1>/)
    const declined = await browser.submit(offer, '/login/passkey-offer/decline', {})
    assert.equal(declined.status, 303, declined.body)
    const result = await sdk.send({ type: 'LoginCallback', callbackUrl: declined.headers.get('location')! })
    assert.equal(result.status, 'Success', result.detail)
    assert.equal(result.user?.userIdentifier, userIdentifier)
    const bad = await sdk.send({ type: 'Login', redirectUri, action: 'delete_account' as 'add_passkey' })
    assert.equal(bad.status, 'InvalidInput')
  })

  it('refuses another person’s sign-in on a person’s enrollment, revokes their tokens and keeps the session', async () => {
    const { sdk, storage } = await signedUp()
    const before = await secretsOf(storage)
    const login = await sdk.send({ type: 'Login', redirectUri, prompt: 'login' })
    const stranger = newCredentials()
    const result = await sdk.send({
      type: 'LoginCallback',
      callbackUrl: await signIn(login.authorizationUrl!, stranger, true),
    })
    assert.equal(result.status, 'AccessDenied')
    assert.match(result.detail ?? '', /another person signed in/)
    assert.equal(result.sdkState, 'LoggedIn')
    assert.deepEqual(await secretsOf(storage), before)
    assert.equal(
      (await sdk.send({ type: 'GetSdkState' })).users[0]?.userIdentifier,
      decodeJwt(before.accessToken).sub,
    )

    // The stranger's tokens from that code were revoked: no active family of theirs is left.
    const identity = await onramp.server.services.store.identities.find(demo.tenant, 'local', stranger.email)
    assert.ok(identity)
    const services = onramp.server.services
    assert.equal(
      await services.store.grants.revokeForProfile(demo.tenant, identity.profileId, 'admin', Date.now()),
      0,
    )
    assert.equal((await sdk.send({ type: 'ExchangeIamToken', audience: demo.audience })).status, 'Success')
  })

  it("gives a second device signing in as the same person that person's sub (facade)", async () => {
    const credentials = newCredentials()
    const first = await enrolled()
    const login = await first.sdk.send({ type: 'Login', redirectUri })
    const signedUp = await first.sdk.send({
      type: 'LoginCallback',
      callbackUrl: await signIn(login.authorizationUrl!, credentials, true),
    })
    assert.equal(signedUp.status, 'Success', signedUp.detail)
    const personSub = signedUp.user!.userIdentifier

    const storage = new MemoryStorage()
    const client = createOnrampClient({
      serverUrl: onramp.server.url,
      storage,
      tenantId: demo.tenant,
      clientId: demo.client,
    })
    await client.start({ appName: 'Demo', appVersion: '1.0.0' })
    assert.equal((await client.enrollAnonymous({ authenticationMode: 'no' })).status, 'Success')
    const anonymousSub = (await client.getState()).users[0]!.userIdentifier
    assert.notEqual(anonymousSub, personSub)
    const started = await client.login({ redirectUri, loginHint: credentials.email })
    assert.equal(started.status, 'RedirectRequired', started.detail)
    const result = await client.completeLogin(await signIn(started.authorizationUrl!, credentials, false))
    assert.equal(result.status, 'Success', result.detail)
    assert.equal(result.isProfileKept, false)
    assert.equal(result.user?.userIdentifier, personSub)
    const secrets = await secretsOf(storage)
    const claims = decodeJwt(secrets.accessToken)
    assert.equal(claims.sub, personSub)
    assert.equal(claims.acr, '1')
    assert.equal((await client.exchangeToken(demo.audience)).status, 'Success')
  })

  it('survives a reload between the steps, and refuses a callback of another state (InvalidInput)', async () => {
    const { sdk } = await enrolled()
    const login = await sdk.send({ type: 'Login', redirectUri })
    assert.equal(login.status, 'RedirectRequired', login.detail)
    const callbackUrl = await signIn(login.authorizationUrl!, newCredentials(), true)

    // The app reloads: the verifier and state come back from storage.
    await sdk.send({ type: 'Restart' })
    assert.equal((await sdk.send({ type: 'OfflineLogin' })).status, 'Success')

    const forged = new URL(callbackUrl)
    forged.searchParams.set('state', 'not-the-state')
    const refused = await sdk.send({ type: 'LoginCallback', callbackUrl: forged.toString() })
    assert.equal(refused.status, 'InvalidInput')
    const otherIssuer = new URL(callbackUrl)
    otherIssuer.searchParams.set('iss', 'https://evil.example/t/demo')
    assert.equal(
      (await sdk.send({ type: 'LoginCallback', callbackUrl: otherIssuer.toString() })).status,
      'InvalidInput',
    )

    const result = await sdk.send({ type: 'LoginCallback', callbackUrl })
    assert.equal(result.status, 'Success', result.detail)
    // The sign-in is spent: its callback again finds nothing under way.
    assert.equal((await sdk.send({ type: 'LoginCallback', callbackUrl })).status, 'InvalidState')
  })

  it('reports a cancelled sign-in as AccessDenied and stays anonymous', async () => {
    const { sdk, storage } = await enrolled()
    const login = await sdk.send({ type: 'Login', redirectUri })
    assert.equal(login.status, 'RedirectRequired', login.detail)
    const { state } = (await storage.get('login')) as { state: string }
    const callback = new URL(redirectUri)
    callback.search = new URLSearchParams({ error: 'access_denied', state, iss: issuer }).toString()
    const result = await sdk.send({ type: 'LoginCallback', callbackUrl: callback.toString() })
    assert.equal(result.status, 'AccessDenied')
    assert.equal(result.sdkState, 'LoggedIn')
    assert.equal((await sdk.send({ type: 'GetSdkState' })).users[0]?.isAnonymous, true)
    assert.equal((await sdk.send({ type: 'ExchangeIamToken', audience: demo.audience })).status, 'Success')
  })

  it('answers InvalidState before an enrollment is unlocked, and InvalidInput for a bad redirect URI', async () => {
    const sdk = new MasterController({ serverUrl: onramp.server.url, storage: new MemoryStorage() })
    await sdk.send({ type: 'Start', appName: 'Demo', appVersion: '1.0.0' })
    assert.equal((await sdk.send({ type: 'Login', redirectUri })).status, 'InvalidState')
    const { sdk: enrolledSdk } = await enrolled()
    assert.equal((await enrolledSdk.send({ type: 'Login', redirectUri: 'not a url' })).status, 'InvalidInput')
    const unregistered = await enrolledSdk.send({ type: 'Login', redirectUri: 'https://other.example/cb' })
    assert.equal(unregistered.status, 'ConfigurationError', unregistered.detail)
  })
})
