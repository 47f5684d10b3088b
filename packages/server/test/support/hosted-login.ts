import assert from 'node:assert/strict'
import * as oauth from 'oauth4webapi'
import type { Services } from '../../src/domain/services.ts'
import { type DeviceKey, demo, demoClient, insecure } from './oauth-client.ts'

/** A response as the browser saw it. */
export interface BrowserResponse {
  url: string
  status: number
  headers: Headers
  body: string
}

/**
 * Plays the browser for the hosted login with `fetch`: keeps the server's cookies (one origin),
 * follows redirects by hand while they stay on the server, and stops at the first redirect that
 * leaves it (the client's redirect URI), whose `Location` it reports.
 */
export class Browser {
  readonly #origin: string
  readonly #cookies = new Map<string, string>()

  constructor(origin: string) {
    this.#origin = new URL(origin).origin
  }

  cookie(name: string): string | undefined {
    return this.#cookies.get(name)
  }

  clearCookies(): void {
    this.#cookies.clear()
  }

  /** One request, no redirects followed; `Set-Cookie` is applied. */
  async request(
    url: string,
    init: { method?: string; form?: Record<string, string> } = {},
  ): Promise<BrowserResponse> {
    const headers: Record<string, string> = {}
    const cookie = [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ')
    if (cookie) headers.cookie = cookie
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded'
      headers.origin = this.#origin
    }
    const response = await fetch(url, {
      method: init.method ?? (init.form ? 'POST' : 'GET'),
      headers,
      ...(init.form && { body: new URLSearchParams(init.form).toString() }),
      redirect: 'manual',
      signal: AbortSignal.timeout(10_000),
    })
    for (const line of response.headers.getSetCookie()) this.#applyCookie(line)
    return { url, status: response.status, headers: response.headers, body: await response.text() }
  }

  /** Requests `url` and follows redirects on the server; returns the last response. */
  async navigate(url: string, init: { form?: Record<string, string> } = {}): Promise<BrowserResponse> {
    let response = await this.request(url, init)
    for (let hops = 0; isRedirect(response.status); hops++) {
      assert.ok(hops < 10, 'too many redirects')
      const location = new URL(response.headers.get('location')!, response.url).toString()
      if (new URL(location).origin !== this.#origin) return response
      response = await this.request(location)
    }
    return response
  }

  /** Fills the page's form that posts to a path ending in `action` (with its CSRF token) and submits it. */
  async submit(
    page: BrowserResponse,
    action: string,
    fields: Record<string, string>,
  ): Promise<BrowserResponse> {
    const form = findForm(page.body, action)
    return this.navigate(form.action, { form: { csrf_token: form.csrfToken, ...fields } })
  }

  #applyCookie(line: string): void {
    const [pair = '', ...attributes] = line.split(';').map((part) => part.trim())
    const [name = '', value = ''] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]
    const expired = attributes.some((a) => /^max-age=(0|-\d+)$/i.test(a))
    if (expired) this.#cookies.delete(name)
    else this.#cookies.set(name, value)
  }
}

export function isRedirect(status: number): boolean {
  return status >= 300 && status < 400
}

/** A form of the page: its action and the hidden CSRF token in it. */
export function findForm(body: string, action: string): { action: string; csrfToken: string } {
  for (const match of body.matchAll(/<form\b[^>]*\baction="([^"]*)"[^>]*>([\s\S]*?)<\/form>/g)) {
    const target = decodeEntities(match[1]!)
    if (!new URL(target).pathname.endsWith(action)) continue
    const token = /<input type="hidden" name="csrf_token" value="([^"]*)">/.exec(match[2]!)
    assert.ok(token, `the form for ${action} has no CSRF token`)
    return { action: target, csrfToken: decodeEntities(token[1]!) }
  }
  assert.fail(`no form posting to …${action} on the page:\n${body}`)
}

function decodeEntities(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) =>
    e === 'amp' ? '&' : e === 'lt' ? '<' : e === 'gt' ? '>' : e === 'quot' ? '"' : "'",
  )
}

export const redirectUri = 'https://app.example/callback'

/** Lets the demo client use the hosted login: the authorization code grant and a redirect URI. */
export async function enableHostedLogin(
  services: Services,
  tenant: string = demo.tenant,
  clientId: string = demo.client,
): Promise<void> {
  const client = await services.clients.get(tenant, clientId)
  await services.clients.update(tenant, clientId, {
    grantTypes: [...new Set([...client.grantTypes, 'authorization_code'])],
    redirectUris: [redirectUri],
  })
}

export interface PushedAuthorization {
  /** `/authorize?client_id=…&request_uri=…` */
  authorizationURL: string
  codeVerifier: string
  state: string
}

/** A plain authorization request (no PAR) with PKCE, for a browser to open at the issuer. */
export async function plainAuthorization(
  issuer: string,
  extra: Record<string, string> = {},
): Promise<{ url: string; codeVerifier: string; state: string }> {
  const codeVerifier = oauth.generateRandomCodeVerifier()
  const state = oauth.generateRandomState()
  const url = new URL(`${issuer}/authorize`)
  url.search = new URLSearchParams({
    client_id: demo.client,
    response_type: 'code',
    redirect_uri: redirectUri,
    code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    ...extra,
  }).toString()
  return { url: url.toString(), codeVerifier, state }
}

/** RFC 9126 through oauth4webapi: PKCE, state, and the anonymous token with a proof by its key when given. */
export async function pushAuthorization(
  as: oauth.AuthorizationServer,
  options: {
    key?: DeviceKey
    anonymousToken?: string
    scope?: string
    extra?: Record<string, string>
    client?: oauth.Client
  } = {},
): Promise<PushedAuthorization> {
  const client = options.client ?? demoClient
  const codeVerifier = oauth.generateRandomCodeVerifier()
  const state = oauth.generateRandomState()
  const parameters: Record<string, string> = {
    response_type: 'code',
    redirect_uri: redirectUri,
    code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    ...(options.scope !== undefined && { scope: options.scope }),
    ...(options.anonymousToken !== undefined && { anonymous_token: options.anonymousToken }),
    ...options.extra,
  }
  const response = await oauth.pushedAuthorizationRequest(as, client, oauth.None(), parameters, {
    ...insecure,
    ...(options.key && { DPoP: options.key.dpop }),
  })
  const pushed = await oauth.processPushedAuthorizationResponse(as, client, response)
  const url = new URL(as.authorization_endpoint!)
  url.searchParams.set('client_id', client.client_id)
  url.searchParams.set('request_uri', pushed.request_uri)
  return { authorizationURL: url.toString(), codeVerifier, state }
}

export type Credentials = {
  email: string
  password: string
}

/**
 * Opens the authorization URL and posts the sign-in (or sign-up) form of the hosted login;
 * returns where that leads, same-origin redirects followed.
 */
export async function submitPassword(
  browser: Browser,
  authorizationURL: string,
  credentials: Credentials,
  options: { signUp?: boolean } = {},
): Promise<BrowserResponse> {
  let page = await browser.navigate(authorizationURL)
  assert.equal(page.status, 200, page.body)
  if (options.signUp) page = await browser.navigate(`${page.url}/sign-up`)
  return browser.submit(page, options.signUp ? '/login/sign-up' : '/login/sign-in', {
    email: credentials.email,
    password: credentials.password,
  })
}

/** Signs in (or signs up) at the hosted login; returns the redirect to the client, where the code is. */
export async function logIn(
  browser: Browser,
  authorizationURL: string,
  credentials: Credentials,
  options: { signUp?: boolean } = {},
): Promise<URL> {
  const response = await submitPassword(browser, authorizationURL, credentials, options)
  assert.equal(response.status, 303, response.body)
  return new URL(response.headers.get('location')!)
}

/** The code at the token endpoint through oauth4webapi, with a proof by the key when given. */
export async function redeemCode(
  as: oauth.AuthorizationServer,
  callback: URL,
  pushed: PushedAuthorization,
  options: { key?: DeviceKey; client?: oauth.Client; codeVerifier?: string } = {},
): Promise<oauth.TokenEndpointResponse> {
  const client = options.client ?? demoClient
  const params = oauth.validateAuthResponse(as, client, callback, pushed.state)
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    client,
    oauth.None(),
    params,
    redirectUri,
    options.codeVerifier ?? pushed.codeVerifier,
    { ...insecure, ...(options.key && { DPoP: options.key.dpop }) },
  )
  return oauth.processAuthorizationCodeResponse(as, client, response)
}

let accounts = 0

/** A new email address and a password for it. */
export function newCredentials(): Credentials {
  accounts++
  return {
    email: `person-${Date.now().toString(36)}-${accounts}@example.com`,
    password: 'correct horse battery',
  }
}
