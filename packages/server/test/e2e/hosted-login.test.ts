import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import * as oauth from 'oauth4webapi'
import {
  Browser,
  type BrowserResponse,
  enableHostedLogin,
  findForm,
  logIn,
  newCredentials,
  pushAuthorization,
  redeemCode,
  redirectUri,
  submitPassword,
} from '../support/hosted-login.ts'
import { send } from '../support/http.ts'
import { decodeJWT, demo, discover } from '../support/oauth-client.ts'
import { storePasskeys } from '../support/passkeys.ts'
import { startTestServer, type TestServer } from '../support/server.ts'

const cookieName = `onramp-login-${demo.tenant}`

describe('the hosted login', () => {
  let server: TestServer
  let as: oauth.AuthorizationServer

  before(async () => {
    server = await startTestServer()
    await enableHostedLogin(server.services)
    as = await discover(server.issuer())
  })
  after(() => server?.close())

  /** A browser on the sign-in page of a fresh interaction. */
  async function open(
    extra: Record<string, string> = {},
  ): Promise<{ browser: Browser; page: BrowserResponse; state: string }> {
    const pushed = await pushAuthorization(as, { extra })
    const browser = new Browser(server.url)
    const page = await browser.navigate(pushed.authorizationURL)
    assert.equal(page.status, 200, page.body)
    return { browser, page, state: pushed.state }
  }

  /**
   * A sign-in page of a tenant of its own (made with `settings`), for the account of
   * `credentials`, which it creates.
   */
  async function openInNewTenant(
    id: string,
    credentials: { email: string; password: string },
    settings?: Parameters<TestServer['services']['tenants']['create']>[0]['settings'],
  ): Promise<{ browser: Browser; page: BrowserResponse }> {
    await server.services.tenants.create({ id, ...(settings && { settings }) })
    await server.services.clients.create(id, {
      clientId: demo.client,
      type: 'public',
      grantTypes: ['authorization_code'],
      redirectUris: [redirectUri],
    })
    await server.services.localAccounts.create(id, credentials.email, credentials.password)
    const browser = new Browser(server.url)
    const page = await browser.navigate(
      (await pushAuthorization(await discover(server.issuer(id)))).authorizationURL,
    )
    return { browser, page }
  }

  function assertSecurityHeaders(response: { headers: Headers }): void {
    const csp = response.headers.get('content-security-policy') ?? ''
    for (const directive of [
      "default-src 'none'",
      "style-src 'self'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ]) {
      assert.ok(csp.includes(directive), `CSP lacks ${directive}: ${csp}`)
    }
    assert.match(csp, /form-action 'self'/)
    // Only the server's own passkey script, never inline or evaluated code.
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|script-src (?!'self';)/)
    assert.equal(response.headers.get('x-frame-options'), 'DENY')
    assert.equal(response.headers.get('referrer-policy'), 'no-referrer')
    assert.equal(response.headers.get('cache-control'), 'no-store')
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff')
  }

  describe('pages', () => {
    it('sets the interaction cookie HttpOnly, SameSite=Lax, Path=/, not Secure over http://127.0.0.1', async () => {
      const pushed = await pushAuthorization(as)
      const response = await send(pushed.authorizationURL)
      assert.equal(response.status, 303)
      const cookie = response.headers.get('set-cookie') ?? ''
      assert.match(cookie, new RegExp(`^${cookieName}=[A-Za-z0-9_-]{43}; `))
      assert.match(cookie, /; HttpOnly/)
      assert.match(cookie, /; SameSite=Lax/)
      assert.match(cookie, /; Path=\//)
      assert.doesNotMatch(cookie, /Secure|Domain/)
      assertSecurityHeaders(response)
    })

    it('renders an accessible sign-in form: lang, title, heading, labels, CSRF token, autocomplete', async () => {
      const { page } = await open({ login_hint: 'ann@example.com' })
      assertSecurityHeaders(page)
      assert.match(page.headers.get('content-type') ?? '', /^text\/html; charset=utf-8/)
      // Browsers apply form-action to the redirect after a post too: the client's origin is allowed.
      assert.match(
        page.headers.get('content-security-policy') ?? '',
        /form-action 'self' https:\/\/app\.example;/,
      )
      const html = page.body
      assert.match(html, /^<!doctype html>\n<html lang="en">/)
      assert.match(html, /<title>Sign in – Demo<\/title>/)
      assert.match(html, /<h1>Sign in<\/h1>/)
      assert.match(html, /<label for="email">Email address<\/label>/)
      assert.match(html, /<label for="password">Password<\/label>/)
      assert.match(
        html,
        /<input id="email" name="email" type="email" autocomplete="username" required[^>]* value="ann@example.com"/,
      )
      assert.match(
        html,
        /<input id="password" name="password" type="password" autocomplete="current-password" required/,
      )
      assert.match(html, /<link rel="stylesheet" href="[^"]+\/login\/assets\/login\.css">/)
      // One script, the server's own passkey file; nothing inline.
      assert.deepEqual(
        [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]),
        [`<script src="${as.issuer}/login/assets/passkey.js" defer>`],
      )
      assert.doesNotMatch(html, /<script\b[^>]*>[^<]|\sstyle=|\son[a-z]+=/i)
      assert.ok(findForm(html, '/login/sign-in').csrfToken.length >= 43)
      assert.ok(findForm(html, '/login/cancel'))
    })

    it('escapes what the request puts on the page', async () => {
      const { page } = await open({ login_hint: '"><script>alert(1)</script>' })
      assert.doesNotMatch(page.body, /<script>/)
      assert.match(page.body, /value="&quot;&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;"/)
    })

    it('opens the sign-up form for prompt=create, and switches between the forms', async () => {
      const { browser, page } = await open({ prompt: 'create' })
      assert.match(page.body, /<h1>Create an account<\/h1>/)
      assert.match(page.body, /autocomplete="new-password"/)
      assert.match(page.body, /<p class="hint" id="password-hint">/)
      assert.match(page.body, /aria-describedby="password-hint"/)
      const signIn = await browser.navigate(`${server.issuer()}/login/sign-in`)
      assert.match(signIn.body, /<h1>Sign in<\/h1>/)
      // The current form is remembered.
      assert.match((await browser.navigate(`${server.issuer()}/login`)).body, /<h1>Sign in<\/h1>/)
      assert.equal((await browser.navigate(`${server.issuer()}/login/elsewhere`)).status, 404)
    })

    it('serves its stylesheet as CSS', async () => {
      const response = await send(`${server.issuer()}/login/assets/login.css`)
      assert.equal(response.status, 200)
      assert.match(response.headers.get('content-type') ?? '', /^text\/css/)
      assert.match(String(response.body), /:focus-visible/)
    })

    it('shows an ended sign-in as a page, without a cookie or after it expired', async () => {
      const response = await send(`${server.issuer()}/login`)
      assert.equal(response.status, 400)
      assert.match(String(response.body), /This sign-in has ended/)
      assertSecurityHeaders(response)
      const forged = await send(`${server.issuer()}/login`, {
        headers: { cookie: `${cookieName}=${'x'.repeat(43)}` },
      })
      assert.equal(forged.status, 400)
    })

    it('ties field errors to their fields and keeps the email, never the password', async () => {
      const { browser, page } = await open({ prompt: 'create' })
      const response = await browser.submit(page, '/login/sign-up', {
        email: 'not-an-email',
        password: 'short',
      })
      assert.equal(response.status, 400)
      const html = response.body
      assert.match(html, /<title>Error: Create an account – Demo<\/title>/)
      assert.match(html, /<div class="alert" id="form-error" role="alert">/)
      assert.match(
        html,
        /<p class="field-error" id="email-error"><span class="visually-hidden">Error:<\/span> Enter an email address/,
      )
      assert.match(
        html,
        /<input id="email"[^>]* value="not-an-email" aria-describedby="email-error" aria-invalid="true" autofocus>/,
      )
      assert.match(
        html,
        /<input id="password"[^>]* aria-describedby="password-hint password-error" aria-invalid="true">/,
      )
      assert.doesNotMatch(html, /short"/)
    })
  })

  describe('signing in', () => {
    it('redirects to the client with code, state and iss, and clears the cookie', async () => {
      const credentials = newCredentials()
      assert.ok(
        await server.services.localAccounts.create(demo.tenant, credentials.email, credentials.password),
      )
      const { browser, page, state } = await open()
      const response = await browser.submit(page, '/login/sign-in', {
        ...credentials,
        email: ` ${credentials.email.toUpperCase()} `,
      })
      assert.equal(response.status, 303, response.body)
      const location = new URL(response.headers.get('location')!)
      assert.equal(`${location.origin}${location.pathname}`, redirectUri)
      assert.match(location.searchParams.get('code') ?? '', /^[0-9a-v]{26}\.[A-Za-z0-9_-]{43}$/)
      assert.equal(location.searchParams.get('state'), state)
      assert.equal(location.searchParams.get('iss'), server.issuer())
      assert.match(response.headers.get('set-cookie') ?? '', new RegExp(`^${cookieName}=; Max-Age=0`))
      assert.equal(browser.cookie(cookieName), undefined)
    })

    it('says the same for a wrong password and an unknown email', async () => {
      const credentials = newCredentials()
      await server.services.localAccounts.create(demo.tenant, credentials.email, credentials.password)
      const wrong = await open()
      const badPassword = await wrong.browser.submit(wrong.page, '/login/sign-in', {
        ...credentials,
        password: 'wrong password',
      })
      const unknown = await open()
      const badEmail = await unknown.browser.submit(unknown.page, '/login/sign-in', { ...newCredentials() })
      for (const response of [badPassword, badEmail]) {
        assert.equal(response.status, 401)
        assert.match(response.body, /The email address or the password is not right\./)
        assert.match(
          response.body,
          /<form method="post" action="[^"]+\/login\/sign-in" novalidate aria-describedby="form-error">/,
        )
      }
    })

    it('refuses a sign-up with an email that has an account', async () => {
      const credentials = newCredentials()
      await server.services.localAccounts.create(demo.tenant, credentials.email, credentials.password)
      const { browser, page } = await open({ prompt: 'create' })
      const response = await browser.submit(page, '/login/sign-up', credentials)
      assert.equal(response.status, 409)
      assert.match(response.body, /already exists/)
    })

    it('stores passwords as Argon2id hashes', async () => {
      const credentials = newCredentials()
      await logIn(new Browser(server.url), (await pushAuthorization(as)).authorizationURL, credentials, {
        signUp: true,
      })
      const account = await server.services.store.localAccounts.get(demo.tenant, credentials.email)
      assert.match(account?.passwordHash ?? '', /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
      assert.ok(!account?.passwordHash.includes(credentials.password))
    })

    it('locks an account after 5 failures, even against the right password, and says for how long', async () => {
      const credentials = newCredentials()
      await server.services.localAccounts.create(demo.tenant, credentials.email, credentials.password)
      const { browser, page } = await open()
      for (let attempt = 1; attempt <= 4; attempt++) {
        const response = await browser.submit(page, '/login/sign-in', {
          ...credentials,
          password: `wrong ${attempt}`,
        })
        assert.equal(response.status, 401, `attempt ${attempt}`)
      }
      const fifth = await browser.submit(page, '/login/sign-in', { ...credentials, password: 'wrong 5' })
      assert.equal(fifth.status, 429)
      const locked = await browser.submit(page, '/login/sign-in', credentials)
      assert.equal(locked.status, 429)
      assert.match(
        locked.body,
        /Too many failed sign-ins\. For your security, signing in is paused: try again in 15 minutes\./,
      )
      assert.ok(Number(locked.headers.get('retry-after')) > 800)
      // Another interaction, another browser: the lock is the account's.
      const other = await open()
      assert.equal((await other.browser.submit(other.page, '/login/sign-in', credentials)).status, 429)
    })

    it('locks as the tenant’s own login_lockout says', async () => {
      const credentials = newCredentials()
      const { browser, page } = await openInNewTenant('strict-lock', credentials, {
        loginLockout: { failures: 2, windowSeconds: 60, lockSeconds: 120 },
      })
      const wrong = { ...credentials, password: 'wrong password' }
      assert.equal((await browser.submit(page, '/login/sign-in', wrong)).status, 401)
      const second = await browser.submit(page, '/login/sign-in', wrong)
      assert.equal(second.status, 429)
      const retryAfter = Number(second.headers.get('retry-after'))
      assert.ok(retryAfter > 100 && retryAfter <= 121, String(retryAfter))
      assert.equal((await browser.submit(page, '/login/sign-in', credentials)).status, 429)
      // The demo tenant keeps the default: two failures do not lock there.
      const elsewhere = await open()
      const other = newCredentials()
      for (let attempt = 1; attempt <= 2; attempt++) {
        const response = await elsewhere.browser.submit(elsewhere.page, '/login/sign-in', other)
        assert.equal(response.status, 401)
      }
    })

    it('locks unknown emails the same way, so a lock tells nothing about accounts', async () => {
      const credentials = newCredentials()
      const { browser, page } = await open()
      const statuses = []
      for (let attempt = 1; attempt <= 6; attempt++) {
        statuses.push((await browser.submit(page, '/login/sign-in', credentials)).status)
      }
      assert.deepEqual(statuses, [401, 401, 401, 401, 429, 429])
    })

    it('locks a client IP after 50 failures, whatever the emails', async () => {
      const credentials = newCredentials()
      const { browser, page } = await openInNewTenant('ip-lock', credentials)
      for (let attempt = 1; attempt <= 50; attempt++) {
        await browser.submit(page, '/login/sign-in', {
          email: `nobody-${attempt}@example.com`,
          password: 'guess',
        })
      }
      const response = await browser.submit(page, '/login/sign-in', credentials)
      assert.equal(response.status, 429)
      // Other tenants are not affected.
      const elsewhere = await open()
      const fine = await elsewhere.browser.submit(elsewhere.page, '/login/sign-in', { ...newCredentials() })
      assert.equal(fine.status, 401)
    })

    it('sends access_denied with state and iss when the person cancels', async () => {
      const { browser, page, state } = await open()
      const response = await browser.submit(page, '/login/cancel', {})
      assert.equal(response.status, 303)
      const location = new URL(response.headers.get('location')!)
      assert.equal(location.searchParams.get('error'), 'access_denied')
      assert.equal(location.searchParams.get('state'), state)
      assert.equal(location.searchParams.get('iss'), server.issuer())
      // The interaction is over: its forms no longer work.
      const again = await browser.submit(page, '/login/sign-in', { ...newCredentials() })
      assert.equal(again.status, 400)
    })
  })

  describe('the passkey offer', () => {
    const tenant = 'offers-passkeys'
    let tenantAS: oauth.AuthorizationServer

    before(async () => {
      await server.services.tenants.create({ id: tenant, settings: { offerPasskeys: true } })
      await server.services.clients.create(tenant, {
        clientId: demo.client,
        type: 'public',
        grantTypes: ['authorization_code'],
        redirectUris: [redirectUri],
      })
      tenantAS = await discover(server.issuer(tenant))
    })

    /** The password form in a fresh interaction of the tenant; same-origin redirects followed. */
    async function passwordSignIn(credentials: { email: string; password: string }, signUp = false) {
      const pushed = await pushAuthorization(tenantAS)
      const browser = new Browser(server.url)
      const response = await submitPassword(browser, pushed.authorizationURL, credentials, { signUp })
      return { browser, pushed, response }
    }

    const subjectOf = async (
      response: BrowserResponse,
      pushed: Awaited<ReturnType<typeof pushAuthorization>>,
    ) => {
      assert.equal(response.status, 303, response.body)
      const tokens = await redeemCode(tenantAS, new URL(response.headers.get('location')!), pushed)
      return decodeJWT(tokens.access_token).payload.sub
    }

    it('comes at the sign-in after sign-up; declining it ends the sign-in as the account', async () => {
      const credentials = newCredentials()
      const signUp = await passwordSignIn(credentials, true)
      const subject = await subjectOf(signUp.response, signUp.pushed)

      const { browser, pushed, response: offer } = await passwordSignIn(credentials)
      assert.equal(offer.status, 200, offer.body)
      assert.match(offer.body, /<h1>Sign in faster next time<\/h1>/)
      assert.match(offer.body, /<title>Sign in faster next time – /)
      // The sign-in forms lead to the offer now, whether asked for or posted from an older tab.
      const forms = await browser.navigate(`${server.issuer(tenant)}/login/sign-in`)
      assert.match(forms.body, /Sign in faster next time/)
      const older = await browser.submit(offer, '/login/passkey-offer', { action: 'register' })
      assert.equal(older.status, 401, 'a response that is no passkey is refused')
      assert.match(older.body, /<title>Error: Sign in faster next time/)
      const form = findForm(offer.body, '/login/passkey-offer')
      const options = await browser.request(`${server.issuer(tenant)}/login/passkey-offer/options`, {
        form: { csrf_token: form.csrfToken },
      })
      assert.equal(options.status, 200, options.body)
      const registration = JSON.parse(options.body)
      assert.equal(registration.user.name, credentials.email, 'the passkey is named by the account')
      assert.equal(registration.authenticatorSelection.userVerification, 'required')

      const declined = await browser.submit(offer, '/login/passkey-offer/decline', {})
      assert.equal(await subjectOf(declined, pushed), subject)
      assert.equal(await server.countRows('passkey_credentials', { tenantId: tenant }), 0)
    })

    it('can be cancelled, and is not made by tenants that do not offer passkeys', async () => {
      const credentials = newCredentials()
      const signUp = await passwordSignIn(credentials, true)
      await subjectOf(signUp.response, signUp.pushed)
      const { browser, response: offer } = await passwordSignIn(credentials)
      // The page's way out is to continue without a passkey; the cancel form of an older tab still works.
      const { csrfToken } = findForm(offer.body, '/login/passkey-offer/decline')
      const cancelled = await browser.request(`${server.issuer(tenant)}/login/cancel`, {
        form: { csrf_token: csrfToken },
      })
      assert.equal(new URL(cancelled.headers.get('location')!).searchParams.get('error'), 'access_denied')

      await server.services.tenants.update(tenant, { settings: { offerPasskeys: false } })
      const again = await passwordSignIn(credentials)
      assert.equal(again.response.status, 303, 'straight back to the client')
      await server.services.tenants.update(tenant, { settings: { offerPasskeys: true } })
    })
  })

  describe('onramp_action=add_passkey', () => {
    it('offers another passkey after the sign-in, where the tenant offers none, without the account’s own', async () => {
      const credentials = newCredentials()
      const signUp = await pushAuthorization(as)
      const callback = await logIn(new Browser(server.url), signUp.authorizationURL, credentials, {
        signUp: true,
      })
      const profileId = decodeJWT((await redeemCode(as, callback, signUp)).access_token).payload.sub
      await storePasskeys(server.services.store, {
        tenantId: demo.tenant,
        profileId: String(profileId),
        userHandle: 'aGFuZGxl',
        credentialIds: ['b3duLXBhc3NrZXk'],
      })
      const plain = await submitPassword(
        new Browser(server.url),
        (await pushAuthorization(as)).authorizationURL,
        credentials,
      )
      assert.equal(plain.status, 303, 'the demo tenant offers no passkey of its own accord')

      const pushed = await pushAuthorization(as, { extra: { onramp_action: 'add_passkey' } })
      const browser = new Browser(server.url)
      const offer = await submitPassword(browser, pushed.authorizationURL, credentials)
      assert.equal(offer.status, 200, offer.body)
      assert.match(offer.body, /<h1>Add a passkey<\/h1>/)
      const form = findForm(offer.body, '/login/passkey-offer')
      const options = await browser.request(`${server.issuer()}/login/passkey-offer/options`, {
        form: { csrf_token: form.csrfToken },
      })
      assert.equal(options.status, 200, options.body)
      const registration = JSON.parse(options.body)
      assert.deepEqual(registration.excludeCredentials, [
        { id: 'b3duLXBhc3NrZXk', type: 'public-key', transports: ['internal'] },
      ])

      const declined = await browser.submit(offer, '/login/passkey-offer/decline', {})
      assert.equal(declined.status, 303, declined.body)
      const tokens = await redeemCode(as, new URL(declined.headers.get('location')!), pushed)
      assert.equal(decodeJWT(tokens.access_token).payload.sub, profileId)
    })

    it('is refused with invalid_request for any other action', async () => {
      await assert.rejects(pushAuthorization(as, { extra: { onramp_action: 'delete_account' } }), (error) => {
        assert.ok(error instanceof oauth.ResponseBodyError)
        assert.equal(error.error, 'invalid_request')
        assert.match(error.error_description ?? '', /onramp_action/)
        return true
      })
    })
  })

  describe('CSRF', () => {
    it('refuses a form without the interaction’s token, or from another origin', async () => {
      const credentials = newCredentials()
      await server.services.localAccounts.create(demo.tenant, credentials.email, credentials.password)
      const { browser, page } = await open()
      const action = `${server.issuer()}/login/sign-in`
      const missing = await browser.request(action, { form: { ...credentials } })
      assert.equal(missing.status, 403)
      assert.match(missing.body, /This form has expired/)
      const wrong = await browser.request(action, { form: { ...credentials, csrf_token: 'A'.repeat(43) } })
      assert.equal(wrong.status, 403)

      const { csrfToken } = findForm(page.body, '/login/sign-in')
      const crossSite = await fetch(action, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          origin: 'https://evil.example',
          cookie: `${cookieName}=${browser.cookie(cookieName)}`,
        },
        body: new URLSearchParams({ ...credentials, csrf_token: csrfToken }).toString(),
        redirect: 'manual',
      })
      assert.equal(crossSite.status, 403)

      // The refusals changed nothing: the real form still signs in.
      assert.equal((await browser.submit(page, '/login/sign-in', credentials)).status, 303)
    })

    it('does not take one interaction’s token for another’s', async () => {
      const first = await open()
      const second = await open()
      const { action, csrfToken } = findForm(first.page.body, '/login/sign-in')
      const response = await second.browser.request(action, {
        form: { ...newCredentials(), csrf_token: csrfToken },
      })
      assert.equal(response.status, 403)
    })
  })

  describe('behind HTTPS', () => {
    it('names the cookie __Host- and makes it Secure', async () => {
      const secure = await startTestServer({ env: { ONRAMP_PUBLIC_URL: 'https://id.example.test' } })
      try {
        await enableHostedLogin(secure.services)
        const challenge = await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier())
        const query = new URLSearchParams({
          response_type: 'code',
          client_id: demo.client,
          redirect_uri: redirectUri,
          code_challenge: challenge,
          code_challenge_method: 'S256',
        })
        const response = await send(`${secure.url}/t/${demo.tenant}/authorize?${query}`)
        assert.equal(response.status, 303)
        const cookie = response.headers.get('set-cookie') ?? ''
        assert.match(cookie, new RegExp(`^__Host-${cookieName}=[A-Za-z0-9_-]{43}; `))
        assert.match(cookie, /; Path=\/; HttpOnly; SameSite=Lax; Secure$/)
        assert.equal(response.headers.get('location'), `https://id.example.test/t/${demo.tenant}/login`)
      } finally {
        await secure.close()
      }
    })
  })
})
