import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import type * as oauth from 'oauth4webapi'
import type { Browser, Page } from 'playwright-core'
import { launchChromium, skipReason } from '../support/chromium.ts'
import {
  enableHostedLogin,
  newCredentials,
  plainAuthorization,
  redeemCode,
  redirectUri,
} from '../support/hosted-login.ts'
import { decodeJWT, demo, discover } from '../support/oauth-client.ts'
import { startTestServer, type TestServer } from '../support/server.ts'

// On CI a missing Chromium fails the test (in `before`) instead of skipping it.
const skip = skipReason() ?? false

describe('passkeys at the hosted login (Chromium, virtual authenticator)', { skip, timeout: 60_000 }, () => {
  let server: TestServer
  let as: oauth.AuthorizationServer
  let browser: Browser

  before(async () => {
    // WebAuthn refuses IP addresses: the pages are served as http://localhost:{port}.
    server = await startTestServer({ publicHost: 'localhost' })
    await enableHostedLogin(server.services)
    as = await discover(server.issuer())
    browser = await launchChromium()
  })

  after(async () => {
    await browser?.close()
    await server?.close()
  })

  /**
   * Where the login sends the browser back to the client. Redirects are not interceptable, and
   * the client's host does not resolve: the request is caught on its way out.
   */
  async function callback(page: Page, click: () => Promise<void>): Promise<URL> {
    const leaving = page.waitForRequest((request) => request.url().startsWith(redirectUri), {
      timeout: 15_000,
    })
    await click()
    const request = await leaving.catch(async (error: Error) => {
      const text = await page.content().catch(() => '(navigating)')
      throw new Error(`${error.message}\nthe page at ${page.url()} says:\n${text}`)
    })
    // The client's host does not exist: Chromium then shows its error page. Wait until it has, so
    // the next page.goto is not interrupted by that navigation (bounded: at most 2 s).
    for (let i = 0; i < 100 && !page.url().startsWith('chrome-error:'); i++) await delay(20)
    return new URL(request.url())
  }

  it('signs up with a passkey, then signs in with it: acr 2, amr hwk user mfa, the same profile', async () => {
    const context = await browser.newContext()
    try {
      const page = await context.newPage()
      const cdp = await context.newCDPSession(page)
      await cdp.send('WebAuthn.enable')
      await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: {
          protocol: 'ctap2',
          transport: 'internal',
          hasResidentKey: true,
          hasUserVerification: true,
          isUserVerified: true,
        },
      })

      const first = await plainAuthorization(server.issuer())
      await page.goto(first.url)
      await page.getByRole('link', { name: 'Create an account' }).click()
      await page.getByLabel('Email address').fill(newCredentials().email)
      const registered = await callback(page, () =>
        page.getByRole('button', { name: 'Create an account with a passkey' }).click(),
      )
      const signUp = await redeemCode(as, registered, { authorizationURL: first.url, ...first })
      const signUpClaims = decodeJWT(signUp.access_token).payload
      assert.equal(signUpClaims.acr, '2')
      assert.deepEqual(signUpClaims.amr, ['hwk', 'user', 'mfa'])
      assert.equal(await server.countRows('passkey_credentials', { tenantId: demo.tenant }), 1)

      const second = await plainAuthorization(server.issuer())
      await page.goto(second.url)
      const signedIn = await callback(page, () =>
        page.getByRole('button', { name: 'Sign in with a passkey' }).click(),
      )
      const signIn = await redeemCode(as, signedIn, { authorizationURL: second.url, ...second })
      const claims = decodeJWT(signIn.access_token).payload
      assert.equal(claims.sub, signUpClaims.sub)
      assert.equal(claims.acr, '2')
      assert.deepEqual(claims.amr, ['hwk', 'user', 'mfa'])
    } finally {
      await context.close()
    }
  })
})
