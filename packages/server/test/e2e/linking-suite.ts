import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { GrantType } from '@onramp/protocol'
import * as oauth from 'oauth4webapi'
import type { MergePolicy } from '../../src/store/tenant-store.ts'
import {
  Browser,
  type Credentials,
  enableHostedLogin,
  logIn,
  newCredentials,
  type PushedAuthorization,
  pushAuthorization,
  redeemCode,
} from '../support/hosted-login.ts'
import {
  createDeviceKey,
  type DeviceKey,
  decodeJWT,
  demo,
  discover,
  enroll,
  exchange,
  insecure,
  refresh,
  rejectsWithOAuthError,
  userinfo,
} from '../support/oauth-client.ts'
import type { TestServer } from '../support/server.ts'

/** A device enrolled anonymously: its key, tokens and profile. */
interface AnonymousDevice {
  key: DeviceKey
  tokens: oauth.TokenEndpointResponse
  profileId: string
}

/**
 * The linking rules of DESIGN §6 end to end, through PAR with `anonymous_token`, the hosted
 * login and the authorization code grant; `open` starts the server on the database under test.
 */
export function defineLinkingTests(open: () => Promise<TestServer>): void {
  let server: TestServer
  let as: oauth.AuthorizationServer
  const backend: oauth.Client = { client_id: 'linking-backend' }
  let backendSecret: string

  before(async () => {
    server = await open()
    await enableHostedLogin(server.services)
    as = await discover(server.issuer())
    const created = await server.services.clients.create(demo.tenant, {
      clientId: backend.client_id,
      type: 'confidential',
      grantTypes: [GrantType.clientCredentials],
    })
    backendSecret = created.clientSecret!
  })
  after(() => server?.close())

  async function anonymousDevice(): Promise<AnonymousDevice> {
    const key = await createDeviceKey()
    const tokens = await enroll(as, key)
    return { key, tokens, profileId: String(decodeJWT(tokens.access_token).payload.sub) }
  }

  /** Signs in (or up) from the device's anonymous profile, and redeems the code with its key. */
  async function signInFrom(
    device: AnonymousDevice | undefined,
    credentials: Credentials,
    options: { signUp?: boolean; key?: DeviceKey } = {},
  ): Promise<oauth.TokenEndpointResponse> {
    const { callback, pushed, key } = await codeFor(device, credentials, options)
    return redeemCode(as, callback, pushed, { key })
  }

  async function codeFor(
    device: AnonymousDevice | undefined,
    credentials: Credentials,
    options: { signUp?: boolean; key?: DeviceKey } = {},
  ): Promise<{ callback: URL; pushed: PushedAuthorization; key: DeviceKey }> {
    const key = device?.key ?? options.key ?? (await createDeviceKey())
    const pushed = await pushAuthorization(as, {
      key,
      ...(device && { anonymousToken: device.tokens.access_token }),
    })
    const callback = await logIn(new Browser(server.url), pushed.authorizationURL, credentials, options)
    return { callback, pushed, key }
  }

  async function signUp(credentials: Credentials): Promise<string> {
    assert.ok(
      await server.services.localAccounts.create(demo.tenant, credentials.email, credentials.password),
    )
    const tokens = await signInFrom(undefined, credentials)
    return String(decodeJWT(tokens.access_token).payload.sub)
  }

  async function introspect(token: string): Promise<oauth.IntrospectionResponse> {
    const response = await oauth.introspectionRequest(
      as,
      backend,
      oauth.ClientSecretPost(backendSecret),
      token,
      insecure,
    )
    return oauth.processIntrospectionResponse(as, backend, response)
  }

  async function profile(id: string): Promise<{ kind: string; attachedAt: number | undefined }> {
    const found = await server.services.store.profiles.get(demo.tenant, id)
    assert.ok(found, `profile ${id} does not exist`)
    return { kind: found.kind, attachedAt: found.attachedAt }
  }

  async function setMergePolicy(mergePolicy: MergePolicy): Promise<void> {
    await server.services.tenants.update(demo.tenant, { settings: { mergePolicy } })
  }

  /** A profile API call with the token and a proof by its key. */
  async function attributes(
    key: DeviceKey,
    accessToken: string,
    method: 'GET' | 'PUT',
    path = '',
    body?: unknown,
  ): Promise<Response> {
    return oauth.protectedResourceRequest(
      accessToken,
      method,
      new URL(`${server.issuer()}/profile/attributes${path}`),
      new Headers(body === undefined ? {} : { 'content-type': 'application/json' }),
      body === undefined ? null : JSON.stringify(body),
      { ...insecure, DPoP: key.dpop },
    )
  }

  async function putAttribute(
    key: DeviceKey,
    accessToken: string,
    name: string,
    value: unknown,
  ): Promise<void> {
    const response = await attributes(key, accessToken, 'PUT', `/${name}`, value)
    assert.ok(response.status === 201 || response.status === 204, `PUT ${name}: ${response.status}`)
  }

  async function allAttributes(key: DeviceKey, accessToken: string): Promise<Record<string, unknown>> {
    const response = await attributes(key, accessToken, 'GET')
    assert.equal(response.status, 200)
    return (await response.json()) as Record<string, unknown>
  }

  it('signs up without an anonymous token: a new identified profile, acr 1, amr pwd, bound to the key', async () => {
    const key = await createDeviceKey()
    const tokens = await signInFrom(undefined, newCredentials(), { signUp: true, key })
    const claims = decodeJWT(tokens.access_token).payload
    assert.equal(tokens.token_type, 'dpop')
    assert.equal(claims.acr, '1')
    assert.deepEqual(claims.amr, ['pwd'])
    assert.deepEqual(claims.cnf, { jkt: key.jkt })
    assert.equal(claims.client_id, demo.client)
    assert.deepEqual(await profile(String(claims.sub)), { kind: 'identified', attachedAt: undefined })
    assert.deepEqual(await userinfo(as, key, tokens.access_token), {
      sub: claims.sub,
      acr: '1',
      amr: ['pwd'],
    })
    const refreshed = await refresh(as, key, tokens.refresh_token!)
    assert.equal(decodeJWT(refreshed.access_token).payload.sub, claims.sub)
    assert.equal(decodeJWT(refreshed.access_token).payload.acr, '1')
  })

  it('attaches a new identity to the anonymous profile: same sub, attributes kept, anonymous tokens dead at once', async () => {
    const device = await anonymousDevice()
    await putAttribute(device.key, device.tokens.access_token, 'cart', ['t-shirt'])
    const tokens = await signInFrom(device, newCredentials(), { signUp: true })
    const claims = decodeJWT(tokens.access_token).payload

    assert.equal(claims.sub, device.profileId)
    assert.equal(claims.acr, '1')
    assert.deepEqual(claims.cnf, { jkt: device.key.jkt })
    const attached = await profile(device.profileId)
    assert.equal(attached.kind, 'identified')
    assert.equal(typeof attached.attachedAt, 'number')
    assert.deepEqual(await allAttributes(device.key, tokens.access_token), { cart: ['t-shirt'] })

    // Every anonymous token of the profile stops working, with the reason recorded.
    const anonymousGrant = String(decodeJWT(device.tokens.access_token).payload.sid)
    const revoked = await server.services.store.grants.get(demo.tenant, anonymousGrant)
    assert.equal(revoked?.revokedReason, 'profile_attached')
    await rejectsWithOAuthError(refresh(as, device.key, device.tokens.refresh_token!), {
      error: 'invalid_grant',
      status: 400,
    })
    await rejectsWithOAuthError(userinfo(as, device.key, device.tokens.access_token), {
      error: 'invalid_token',
      status: 401,
    })
    assert.equal((await introspect(device.tokens.access_token)).active, false)
    await rejectsWithOAuthError(exchange(as, device.key, device.tokens.access_token), {
      error: 'invalid_grant',
      status: 400,
    })

    // The new tokens work, and the device now belongs to the person: its grant names it.
    assert.equal((await introspect(tokens.access_token)).active, true)
    const grant = await server.services.store.grants.get(demo.tenant, String(claims.sid))
    assert.equal(grant?.deviceId, revoked?.deviceId)
    const exchanged = await exchange(as, device.key, tokens.access_token)
    assert.equal(decodeJWT(exchanged.access_token).payload.sub, device.profileId)
  })

  it('gives the existing user’s tokens when the identity belongs to a user, and leaves the anonymous profile as it was', async () => {
    const credentials = newCredentials()
    const userId = await signUp(credentials)
    const device = await anonymousDevice()
    await putAttribute(device.key, device.tokens.access_token, 'cart', ['shorts'])

    const tokens = await signInFrom(device, credentials)
    assert.equal(decodeJWT(tokens.access_token).payload.sub, userId)
    assert.deepEqual(decodeJWT(tokens.access_token).payload.cnf, { jkt: device.key.jkt })
    assert.deepEqual(await profile(device.profileId), { kind: 'anonymous', attachedAt: undefined })
    // The anonymous token keeps working until it expires, and its refresh token too.
    assert.equal((await userinfo(as, device.key, device.tokens.access_token)).sub, device.profileId)
    assert.equal((await introspect(device.tokens.access_token)).active, true)
    const refreshed = await refresh(as, device.key, device.tokens.refresh_token!)
    assert.equal(decodeJWT(refreshed.access_token).payload.sub, device.profileId)
    // Merge policy `none` (the default): the user's profile did not get the anonymous attributes.
    assert.deepEqual(await allAttributes(device.key, tokens.access_token), {})
    assert.deepEqual(await allAttributes(device.key, refreshed.access_token), { cart: ['shorts'] })
  })

  it('gives the device to the existing user: revoking it ends their tokens, sweeping the anonymous profile does not', async () => {
    const credentials = newCredentials()
    const userId = await signUp(credentials)
    const device = await anonymousDevice()
    const deviceId = String(device.tokens.device_id)
    const tokens = await signInFrom(device, credentials)
    const grant = await server.services.store.grants.get(
      demo.tenant,
      String(decodeJWT(tokens.access_token).payload.sid),
    )
    assert.equal(grant?.deviceId, deviceId)
    assert.equal((await server.services.devices.get(demo.tenant, deviceId)).profileId, userId)

    // The anonymous profile goes (as the inactivity sweep deletes it); the person's tokens stay.
    assert.equal(await server.services.store.profiles.delete(demo.tenant, device.profileId), true)
    assert.equal((await introspect(tokens.access_token)).active, true)
    const refreshed = await refresh(as, device.key, tokens.refresh_token!)

    assert.deepEqual(await server.services.devices.revoke(demo.tenant, deviceId), { grantsRevoked: 1 })
    assert.equal((await introspect(refreshed.access_token)).active, false)
    await rejectsWithOAuthError(refresh(as, device.key, refreshed.refresh_token!), {
      error: 'invalid_grant',
      status: 400,
    })
  })

  it('ties a person’s sign-in without an anonymous token to their device with the same key, and only that', async () => {
    const device = await anonymousDevice()
    const deviceId = String(device.tokens.device_id)
    const credentials = newCredentials()
    await signInFrom(device, credentials, { signUp: true })
    const grantOf = async (tokens: oauth.TokenEndpointResponse) =>
      server.services.store.grants.get(demo.tenant, String(decodeJWT(tokens.access_token).payload.sid))

    const again = await signInFrom(undefined, credentials, { key: device.key })
    assert.equal((await grantOf(again))?.deviceId, deviceId)
    const elsewhere = await signInFrom(undefined, credentials)
    assert.equal((await grantOf(elsewhere))?.deviceId, undefined)
    // Another person's sign-in with that key does not get the device.
    const stranger = await signInFrom(undefined, newCredentials(), { signUp: true, key: device.key })
    assert.equal((await grantOf(stranger))?.deviceId, undefined)

    assert.deepEqual(await server.services.devices.revoke(demo.tenant, deviceId), { grantsRevoked: 2 })
    assert.equal((await introspect(again.access_token)).active, false)
    assert.equal((await introspect(elsewhere.access_token)).active, true)
  })

  it('attaches at most one anonymous profile to a user: later sign-ins from others never attach', async () => {
    const first = await anonymousDevice()
    const credentials = newCredentials()
    const tokens = await signInFrom(first, credentials, { signUp: true })
    const attachedAt = (await profile(first.profileId)).attachedAt
    assert.equal(decodeJWT(tokens.access_token).payload.sub, first.profileId)

    const second = await anonymousDevice()
    const again = await signInFrom(second, credentials)
    assert.equal(decodeJWT(again.access_token).payload.sub, first.profileId)
    assert.deepEqual(await profile(second.profileId), { kind: 'anonymous', attachedAt: undefined })
    assert.equal((await profile(first.profileId)).attachedAt, attachedAt)
    assert.equal((await userinfo(as, second.key, second.tokens.access_token)).sub, second.profileId)
  })

  it('signs in without an anonymous token to the profile the identity belongs to', async () => {
    const credentials = newCredentials()
    const userId = await signUp(credentials)
    const tokens = await signInFrom(undefined, credentials)
    assert.equal(decodeJWT(tokens.access_token).payload.sub, userId)
  })

  it('applies the tenant’s merge policy to the anonymous attributes when the identity has a user', async () => {
    const credentials = newCredentials()
    const owner = await anonymousDevice()
    await putAttribute(owner.key, owner.tokens.access_token, 'cart', ['hat'])
    await putAttribute(owner.key, owner.tokens.access_token, 'theme', 'dark')
    const own = await signInFrom(owner, credentials, { signUp: true })
    try {
      await setMergePolicy('prefer-existing')
      const visitor = await anonymousDevice()
      await putAttribute(visitor.key, visitor.tokens.access_token, 'cart', ['scarf'])
      await putAttribute(visitor.key, visitor.tokens.access_token, 'currency', 'EUR')
      const tokens = await signInFrom(visitor, credentials)
      assert.deepEqual(await allAttributes(visitor.key, tokens.access_token), {
        cart: ['hat'],
        currency: 'EUR',
        theme: 'dark',
      })
      // Nothing was taken from the anonymous profile.
      assert.deepEqual(await allAttributes(visitor.key, visitor.tokens.access_token), {
        cart: ['scarf'],
        currency: 'EUR',
      })

      await setMergePolicy('prefer-anonymous')
      const another = await anonymousDevice()
      await putAttribute(another.key, another.tokens.access_token, 'cart', ['gloves'])
      const latest = await signInFrom(another, credentials)
      assert.deepEqual(await allAttributes(another.key, latest.access_token), {
        cart: ['gloves'],
        currency: 'EUR',
        theme: 'dark',
      })
      assert.deepEqual(
        await allAttributes(owner.key, own.access_token),
        await allAttributes(another.key, latest.access_token),
      )
    } finally {
      await setMergePolicy('none')
    }
  })

  it('merges explicitly with POST /profile/merge, both tokens bound to the one key', async () => {
    const credentials = newCredentials()
    const userId = await signUp(credentials)
    const device = await anonymousDevice()
    await putAttribute(device.key, device.tokens.access_token, 'cart', ['socks'])
    const tokens = await signInFrom(device, credentials)

    const merge = (accessToken: string, key: DeviceKey, body: Record<string, unknown>): Promise<Response> =>
      oauth.protectedResourceRequest(
        accessToken,
        'POST',
        new URL(`${server.issuer()}/profile/merge`),
        new Headers({ 'content-type': 'application/json' }),
        JSON.stringify(body),
        { ...insecure, DPoP: key.dpop },
      )

    // A token of another key cannot pull this anonymous profile in.
    const stranger = await createDeviceKey()
    const strangers = await signInFrom(undefined, credentials, { key: stranger })
    const refused = await merge(strangers.access_token, stranger, {
      anonymous_token: device.tokens.access_token,
    })
    assert.equal(refused.status, 400)
    assert.equal(((await refused.json()) as { error: string }).error, 'invalid_request')

    // Anonymous tokens are not a person's.
    const other = await anonymousDevice()
    const notAPerson = await merge(other.tokens.access_token, other.key, {
      anonymous_token: other.tokens.access_token,
    })
    assert.equal(notAPerson.status, 403)

    const merged = await merge(tokens.access_token, device.key, {
      anonymous_token: device.tokens.access_token,
    })
    assert.equal(merged.status, 200)
    assert.deepEqual(await merged.json(), { sub: userId, merged: ['cart'], skipped: [] })
    assert.deepEqual(await allAttributes(device.key, tokens.access_token), { cart: ['socks'] })
    assert.deepEqual(await profile(device.profileId), { kind: 'anonymous', attachedAt: undefined })
  })

  it('ignores an anonymous token whose family ended before the code was redeemed', async () => {
    const device = await anonymousDevice()
    const { callback, pushed, key } = await codeFor(device, newCredentials(), { signUp: true })
    // The device is revoked between the sign-in and the redemption: its anonymous grant with it.
    await server.services.devices.revoke(demo.tenant, String(device.tokens.device_id))
    const tokens = await redeemCode(as, callback, pushed, { key })
    const sub = String(decodeJWT(tokens.access_token).payload.sub)
    assert.notEqual(sub, device.profileId)
    assert.deepEqual(await profile(sub), { kind: 'identified', attachedAt: undefined })
    assert.deepEqual(await profile(device.profileId), { kind: 'anonymous', attachedAt: undefined })
  })

  it('attaches exactly one of two anonymous profiles signing in concurrently with the same new identity', async () => {
    const credentials = newCredentials()
    assert.ok(
      await server.services.localAccounts.create(demo.tenant, credentials.email, credentials.password),
    )
    const devices = [await anonymousDevice(), await anonymousDevice()]
    const codes = await Promise.all(devices.map((device) => codeFor(device, credentials)))
    const results = await Promise.all(
      codes.map(({ callback, pushed, key }) => redeemCode(as, callback, pushed, { key })),
    )

    const subs = results.map((tokens) => decodeJWT(tokens.access_token).payload.sub)
    assert.equal(subs[0], subs[1], 'both sign-ins end in the same profile')
    const winner = devices.findIndex((device) => device.profileId === subs[0])
    assert.ok(winner >= 0, 'the profile is one of the two anonymous profiles')
    const loser = devices[1 - winner]!
    assert.equal((await profile(devices[winner]!.profileId)).kind, 'identified')
    assert.deepEqual(await profile(loser.profileId), { kind: 'anonymous', attachedAt: undefined })
    // Nothing lost: the loser's anonymous tokens still work, the winner's are revoked.
    assert.equal((await userinfo(as, loser.key, loser.tokens.access_token)).sub, loser.profileId)
    await rejectsWithOAuthError(userinfo(as, devices[winner]!.key, devices[winner]!.tokens.access_token), {
      error: 'invalid_token',
      status: 401,
    })
    const identities = await server.services.store.identities.listForProfile(demo.tenant, String(subs[0]))
    assert.deepEqual(
      identities.map((i) => [i.provider, i.subject]),
      [['local', credentials.email]],
    )
  })

  it('gives one anonymous profile to only one of two new identities signing in from it at once', async () => {
    const device = await anonymousDevice()
    const people = [newCredentials(), newCredentials()]
    const codes = await Promise.all(people.map((person) => codeFor(device, person, { signUp: true })))
    const results = await Promise.all(
      codes.map(({ callback, pushed, key }) => redeemCode(as, callback, pushed, { key })),
    )
    const subs = results.map((tokens) => String(decodeJWT(tokens.access_token).payload.sub))
    assert.notEqual(subs[0], subs[1])
    assert.equal(subs.filter((sub) => sub === device.profileId).length, 1)
    const other = subs.find((sub) => sub !== device.profileId)!
    assert.deepEqual(await profile(other), { kind: 'identified', attachedAt: undefined })
  })

  it('lets only one of two concurrent sign-ups take an email address', async () => {
    const credentials = newCredentials()
    const devices = [await anonymousDevice(), await anonymousDevice()]
    const pages = await Promise.all(
      devices.map(async (device) => {
        const pushed = await pushAuthorization(as, {
          key: device.key,
          anonymousToken: device.tokens.access_token,
        })
        const browser = new Browser(server.url)
        const page = await browser.navigate(pushed.authorizationURL)
        return { browser, page: await browser.navigate(`${page.url}/sign-up`) }
      }),
    )
    const responses = await Promise.all(
      pages.map(({ browser, page }) => browser.submit(page, '/login/sign-up', { ...credentials })),
    )
    assert.deepEqual(responses.map((r) => r.status).sort(), [303, 409])
  })
}
