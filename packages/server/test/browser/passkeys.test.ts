import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import type * as oauth from 'oauth4webapi'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import {
  addPlatformAuthenticator,
  assertAccessible,
  launchChromium,
  skipReason,
} from '../support/chromium.ts'
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

  /** A page in a context of its own with a platform authenticator that verifies its user. */
  async function pageWithAuthenticator(context: BrowserContext): Promise<Page> {
    const page = await context.newPage()
    await addPlatformAuthenticator(page)
    return page
  }

  /**
   * A new authorization request of the demo client (with `extra` parameters), its tokens' claims
   * once `signIn` ends it.
   */
  async function authorize(
    page: Page,
    signIn: () => Promise<void>,
    extra: Record<string, string> = {},
  ): Promise<Record<string, unknown>> {
    const request = await plainAuthorization(server.issuer(), extra)
    await page.goto(request.url)
    const back = await callback(page, signIn)
    const tokens = await redeemCode(as, back, { authorizationURL: request.url, ...request })
    return decodeJWT(tokens.access_token).payload
  }

  it('signs up with a passkey, then signs in with it: acr 2, amr hwk user mfa, the same profile', async () => {
    const context = await browser.newContext()
    try {
      const page = await pageWithAuthenticator(context)
      const signUp = await authorize(page, async () => {
        await page.getByRole('link', { name: 'Create an account' }).click()
        await page.getByLabel('Email address').fill(newCredentials().email)
        await page.getByRole('button', { name: 'Create an account with a passkey' }).click()
      })
      assert.equal(signUp.acr, '2')
      assert.deepEqual(signUp.amr, ['hwk', 'user', 'mfa'])
      assert.equal(await server.countRows('passkey_credentials', { tenantId: demo.tenant }), 1)

      const signIn = await authorize(page, () =>
        page.getByRole('button', { name: 'Sign in with a passkey' }).click(),
      )
      assert.equal(signIn.sub, signUp.sub)
      assert.equal(signIn.acr, '2')
      assert.deepEqual(signIn.amr, ['hwk', 'user', 'mfa'])
    } finally {
      await context.close()
    }
  })

  it('offers a password account a passkey, which then signs in to the same profile', async () => {
    await server.services.tenants.update(demo.tenant, { settings: { offerPasskeys: true } })
    // axe goes in as an inline script, which the hosted login's CSP forbids.
    const context = await browser.newContext({ bypassCSP: true })
    try {
      const page = await pageWithAuthenticator(context)
      const credentials = newCredentials()
      await server.services.localAccounts.create(demo.tenant, credentials.email, credentials.password)
      const withPassword = async () => {
        await page.getByLabel('Email address').fill(credentials.email)
        await page.getByLabel('Password').fill(credentials.password)
        await page.getByRole('button', { name: 'Sign in', exact: true }).click()
      }
      // The account gets its profile at its first sign-in: the offer comes at the next one.
      const first = await authorize(page, withPassword)
      const passkeys = await server.countRows('passkey_credentials', { tenantId: demo.tenant })

      const offered = await authorize(page, async () => {
        await withPassword()
        await page.getByRole('heading', { name: 'Sign in faster next time' }).waitFor()
        await assertAccessible(page, 'the passkey offer')
        await page.getByRole('button', { name: 'Add a passkey' }).click()
      })
      assert.equal(offered.sub, first.sub)
      assert.deepEqual([offered.acr, offered.amr], [first.acr, first.amr], 'the sign-in was by password')
      assert.equal(await server.countRows('passkey_credentials', { tenantId: demo.tenant }), passkeys + 1)

      const withPasskey = await authorize(page, () =>
        page.getByRole('button', { name: 'Sign in with a passkey' }).click(),
      )
      assert.equal(withPasskey.sub, first.sub, 'the passkey signs in to the same profile')
      assert.equal(withPasskey.acr, '2')

      // The account has a passkey now: a password sign-in goes straight back to the client.
      const again = await authorize(page, withPassword)
      assert.equal(again.sub, first.sub)
    } finally {
      await context.close()
      await server.services.tenants.update(demo.tenant, { settings: { offerPasskeys: false } })
    }
  })

  it('adds a passkey when the app asks, on each device once: one that has one already makes none', async () => {
    const credentials = newCredentials()
    await server.services.localAccounts.create(demo.tenant, credentials.email, credentials.password)
    const phone = await browser.newContext()
    const laptop = await browser.newContext()
    try {
      const withPassword = (page: Page) => async () => {
        await page.getByLabel('Email address').fill(credentials.email)
        await page.getByLabel('Password').fill(credentials.password)
        await page.getByRole('button', { name: 'Sign in', exact: true }).click()
      }
      const addPasskey = { onramp_action: 'add_passkey' }
      const onPhone = await pageWithAuthenticator(phone)
      const first = await authorize(onPhone, withPassword(onPhone))
      const profileId = String(first.sub)
      const passkeys = async () => (await server.services.accounts.get(demo.tenant, profileId)).passkeys

      const added = await authorize(
        onPhone,
        async () => {
          await withPassword(onPhone)()
          await onPhone.getByRole('heading', { name: 'Add a passkey' }).waitFor()
          await onPhone.getByLabel('Name this passkey (optional)').fill('  My phone ')
          await onPhone.getByRole('button', { name: 'Add a passkey' }).click()
        },
        addPasskey,
      )
      assert.equal(added.sub, profileId)
      const afterPhone = await passkeys()
      const [phonePasskey] = afterPhone
      assert.deepEqual([afterPhone.length, phonePasskey?.name], [1, 'My phone'])
      // Chromium's virtual authenticators report an AAGUID and are not backup eligible.
      assert.match(phonePasskey?.aaguid ?? '', /^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/)
      assert.equal(phonePasskey?.deviceType, 'single_device')

      // Asked again on the phone: its authenticator holds the account's passkey and makes none.
      const refused = await authorize(
        onPhone,
        async () => {
          await onPhone.getByRole('button', { name: 'Sign in with a passkey' }).click()
          await onPhone.getByRole('heading', { name: 'Add a passkey' }).waitFor()
          await onPhone.getByRole('button', { name: 'Add a passkey' }).click()
          await onPhone.getByText('This device has a passkey for your account already.').waitFor()
          await onPhone.getByRole('button', { name: 'Continue without a passkey' }).click()
        },
        addPasskey,
      )
      assert.equal(refused.sub, profileId)
      assert.equal(refused.acr, '2', 'signed in with the passkey')
      assert.equal((await passkeys()).length, 1)

      const onLaptop = await pageWithAuthenticator(laptop)
      await authorize(
        onLaptop,
        async () => {
          await withPassword(onLaptop)()
          await onLaptop.getByRole('button', { name: 'Add a passkey' }).click()
        },
        addPasskey,
      )
      assert.deepEqual(
        (await passkeys()).map((p) => p.name),
        ['My phone', undefined],
        'another device adds its own, unnamed',
      )
      const withLaptopPasskey = await authorize(onLaptop, () =>
        onLaptop.getByRole('button', { name: 'Sign in with a passkey' }).click(),
      )
      assert.equal(withLaptopPasskey.sub, profileId)
    } finally {
      await phone.close()
      await laptop.close()
    }
  })
})
