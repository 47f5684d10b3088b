import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import type * as oauth from 'oauth4webapi'
import type { Browser } from 'playwright-core'
import { admin } from '../apple/support.ts'
import { launchChromium, skipReason } from '../support/chromium.ts'
import { enableHostedLogin, plainAuthorization, redeemCode, redirectUri } from '../support/hosted-login.ts'
import { decodeJWT, demo, discover } from '../support/oauth-client.ts'
import { startTestServer, type TestServer } from '../support/server.ts'
import { startUpstreamProvider, type UpstreamProvider } from '../support/upstream-provider.ts'

// On CI a missing Chromium fails the test (in `before`) instead of skipping it.
const skip = skipReason() ?? false

describe('sign-in through an upstream OpenID Connect provider (Chromium)', { skip, timeout: 60_000 }, () => {
  let server: TestServer
  let upstream: UpstreamProvider
  let as: oauth.AuthorizationServer
  let browser: Browser

  before(async () => {
    server = await startTestServer({ publicHost: 'localhost' })
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
        ],
      },
    })
    assert.equal(configured.status, 200, JSON.stringify(configured.body))
    browser = await launchChromium()
  })

  after(async () => {
    await browser?.close()
    await upstream?.close()
    await server?.close()
  })

  it('continues with the provider, signs in and consents there, and comes back with a code: amr fed, acr 1', async () => {
    const context = await browser.newContext()
    try {
      // Only the two local servers are reachable (the upstream pages import a web font).
      await context.route(
        (url) => url.hostname !== 'localhost' && url.hostname !== '127.0.0.1',
        (route) => route.abort(),
      )
      const page = await context.newPage()
      page.setDefaultTimeout(15_000)

      const { url: authorizeURL, codeVerifier, state } = await plainAuthorization(server.issuer())

      await page.goto(authorizeURL)
      await page.getByRole('button', { name: 'Continue with corp' }).click()

      // The upstream provider's development login page, then its consent page.
      const login = `person-${randomUUID()}`
      await page.locator('input[name="login"]').fill(login)
      await page.locator('input[name="password"]').fill('any password')
      await page.getByRole('button', { name: 'Sign-in' }).click()

      // Redirects are not interceptable and the client's host does not resolve: the request
      // to the redirect URI is caught on its way out.
      const leaving = page.waitForRequest((request) => request.url().startsWith(redirectUri))
      await page.getByRole('button', { name: 'Continue' }).click()
      const request = await leaving.catch(async (error: Error) => {
        const text = await page.content().catch(() => '(navigating)')
        throw new Error(`${error.message}\nthe page at ${page.url()} says:\n${text}`)
      })
      const callback = new URL(request.url())
      assert.ok(callback.searchParams.get('code'), callback.href)
      assert.equal(callback.searchParams.get('state'), state)
      assert.equal(callback.searchParams.get('iss'), server.issuer())

      const tokens = await redeemCode(as, callback, { authorizationURL: authorizeURL, codeVerifier, state })
      const claims = decodeJWT(tokens.access_token).payload
      assert.ok((claims.amr as string[]).includes('fed'), JSON.stringify(claims.amr))
      assert.equal(claims.acr, '1')
      const identity = await server.services.store.identities.find(demo.tenant, 'oidc:corp', login)
      assert.equal(identity?.profileId, claims.sub)
    } finally {
      await context.close()
    }
  })
})
