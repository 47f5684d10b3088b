import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import type * as oauth from 'oauth4webapi'
import { admin } from '../apple/support.ts'
import {
  Browser,
  enableHostedLogin,
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
  refresh,
  rejectsWithOAuthError,
} from '../support/oauth-client.ts'
import { startTestServer, type TestServer } from '../support/server.ts'
import { signInUpstream, startUpstreamProvider, type UpstreamProvider } from '../support/upstream-provider.ts'

describe('sign-in through an upstream OpenID Connect provider', () => {
  let server: TestServer
  let upstream: UpstreamProvider
  let as: oauth.AuthorizationServer

  before(async () => {
    server = await startTestServer()
    await enableHostedLogin(server.services)
    as = await discover(server.issuer())
    upstream = await startUpstreamProvider({ redirectUris: [`${server.issuer()}/login/callback/corp`] })
    const configured = await admin(server, 'PATCH', `/tenants/${demo.tenant}`, {
      settings: {
        upstream_providers: [
          {
            name: 'corp',
            issuer: upstream.issuer,
            client_id: upstream.clientId,
            client_secret: upstream.clientSecret,
            scopes: ['openid'],
          },
          // Nothing listens on port 1: this provider is down.
          { name: 'down', issuer: 'http://127.0.0.1:1', client_id: 'onramp' },
        ],
      },
    })
    assert.equal(configured.status, 200, JSON.stringify(configured.body))
  })
  after(async () => {
    await upstream?.close()
    await server?.close()
  })

  async function anonymousDevice(): Promise<{
    key: DeviceKey
    tokens: oauth.TokenEndpointResponse
    profileId: string
  }> {
    const key = await createDeviceKey()
    const tokens = await enroll(as, key)
    return { key, tokens, profileId: String(decodeJWT(tokens.access_token).payload.sub) }
  }

  /** From an anonymous device to the login page, then to the upstream provider: its authorization URL. */
  async function startUpstreamSignIn(
    device: { key: DeviceKey; tokens: oauth.TokenEndpointResponse },
    provider = 'corp',
  ): Promise<{
    browser: Browser
    pushed: PushedAuthorization
    response: Awaited<ReturnType<Browser['request']>>
  }> {
    const pushed = await pushAuthorization(as, {
      key: device.key,
      anonymousToken: device.tokens.access_token,
    })
    const browser = new Browser(server.url)
    const page = await browser.navigate(pushed.authorizationURL)
    assert.equal(page.status, 200, page.body)
    const response = await browser.submit(page, `/login/upstream/${provider}`, {})
    return { browser, pushed, response }
  }

  async function signIn(
    device: { key: DeviceKey; tokens: oauth.TokenEndpointResponse },
    login: string,
  ): Promise<oauth.TokenEndpointResponse> {
    const { browser, pushed, response } = await startUpstreamSignIn(device)
    assert.equal(response.status, 303, response.body)
    const callback = await signInUpstream(response.headers.get('location')!, { login })
    assert.equal(callback.origin, new URL(server.url).origin)
    const back = await browser.navigate(callback.href)
    assert.equal(back.status, 303, back.body)
    return redeemCode(as, new URL(back.headers.get('location')!), pushed, { key: device.key })
  }

  it('keeps the client secret write-only in the admin API and sealed in storage', async () => {
    const { body } = await admin(server, 'GET', `/tenants/${demo.tenant}`)
    assert.deepEqual(body.settings.upstream_providers[0], {
      name: 'corp',
      issuer: upstream.issuer,
      client_id: upstream.clientId,
      scopes: ['openid'],
      has_client_secret: true,
    })
    assert.ok(!JSON.stringify(body).includes(upstream.clientSecret))
    const stored = await server.services.store.tenants.get(demo.tenant)
    assert.ok(!JSON.stringify(stored).includes(upstream.clientSecret))

    const invalid = await admin(server, 'PATCH', `/tenants/${demo.tenant}`, {
      settings: { upstream_providers: [{ name: 'corp', issuer: 'http://idp.example', client_id: 'x' }] },
    })
    assert.equal(invalid.status, 400)
  })

  it('shows a button per provider that posts with the CSRF token, and sends the browser upstream with PKCE, state and nonce', async () => {
    const { response } = await startUpstreamSignIn(await anonymousDevice())
    assert.equal(response.status, 303)
    const location = new URL(response.headers.get('location')!)
    assert.equal(location.origin, upstream.issuer)
    assert.equal(location.searchParams.get('code_challenge_method'), 'S256')
    assert.equal(location.searchParams.get('redirect_uri'), `${server.issuer()}/login/callback/corp`)
    for (const parameter of ['code_challenge', 'state', 'nonce'])
      assert.ok(location.searchParams.get(parameter), parameter)
  })

  it('attaches the upstream identity to the anonymous profile, then signs the same person in from another device', async () => {
    const login = `person-${randomUUID()}`
    const first = await anonymousDevice()
    const tokens = await signIn(first, login)
    const claims = decodeJWT(tokens.access_token).payload
    assert.equal(claims.sub, first.profileId)
    assert.deepEqual(claims.amr, ['fed'])
    assert.equal(claims.acr, '1')
    const identity = await server.services.store.identities.find(demo.tenant, 'oidc:corp', login)
    assert.equal(identity?.profileId, first.profileId)
    await rejectsWithOAuthError(refresh(as, first.key, first.tokens.refresh_token!), {
      error: 'invalid_grant',
      status: 400,
    })

    const second = await anonymousDevice()
    const again = await signIn(second, login)
    assert.equal(decodeJWT(again.access_token).payload.sub, first.profileId)
    const untouched = await server.services.store.profiles.get(demo.tenant, second.profileId)
    assert.equal(untouched?.kind, 'anonymous')
  })

  it('refuses a callback whose state does not match, and the round trip cannot be replayed', async () => {
    const { browser, response } = await startUpstreamSignIn(await anonymousDevice())
    const callback = await signInUpstream(response.headers.get('location')!, {
      login: `person-${randomUUID()}`,
    })
    const forged = new URL(callback)
    forged.searchParams.set('state', 'not-the-state')
    const refused = await browser.navigate(forged.href)
    assert.equal(refused.status, 400, refused.body)
    assert.match(refused.body, /could not be confirmed/)
    const replayed = await browser.navigate(callback.href)
    assert.equal(replayed.status, 400, replayed.body)
  })

  it('shows the login page again when the person declines upstream, and cancelling still reaches the client', async () => {
    const { browser, response } = await startUpstreamSignIn(await anonymousDevice())
    const callback = await signInUpstream(response.headers.get('location')!, { login: 'x', abort: true })
    assert.equal(callback.searchParams.get('error'), 'access_denied')
    const page = await browser.navigate(callback.href)
    assert.equal(page.status, 403, page.body)
    assert.match(page.body, /Signing in with corp was cancelled/)
    const cancelled = await browser.submit(page, '/login/cancel', {})
    assert.equal(cancelled.status, 303)
    assert.equal(new URL(cancelled.headers.get('location')!).searchParams.get('error'), 'access_denied')
  })

  it('answers without a 5xx when the upstream provider is down, and logs why for the operator', async (t) => {
    // Requests log through the app's logger (one logger for all requests).
    const warn = t.mock.method(server.runtime.app.log, 'warn')
    const { response } = await startUpstreamSignIn(await anonymousDevice(), 'down')
    assert.equal(response.status, 400, response.body)
    assert.match(response.body, /Signing in with down did not work/)
    assert.doesNotMatch(response.body, /discovery failed/)
    const logged = warn.mock.calls.map((call) => call.arguments as unknown[])
    const entry = logged.find((args) => args[1] === 'upstream sign-in failed')
    assert.ok(entry, JSON.stringify(logged))
    const fields = entry[0] as { tenant: string; reason: string; detail: string }
    assert.equal(fields.tenant, demo.tenant)
    assert.equal(fields.reason, 'upstream_failed')
    assert.match(fields.detail, /^down \(http:\/\/127\.0\.0\.1:\d+\): discovery failed: /)
    assert.ok(!JSON.stringify(logged).includes(upstream.clientSecret))
  })
})
