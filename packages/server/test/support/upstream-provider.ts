import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import Provider from 'oidc-provider'

/** An upstream OpenID Connect provider on 127.0.0.1 (`oidc-provider` with its development login pages). */
export interface UpstreamProvider {
  issuer: string
  clientId: string
  clientSecret: string
  close(): Promise<void>
}

export async function startUpstreamProvider(options: { redirectUris: string[] }): Promise<UpstreamProvider> {
  let handle: (request: IncomingMessage, response: ServerResponse) => void = (_request, response) => {
    response.statusCode = 503
    response.end()
  }
  const server = createServer((request, response) => handle(request, response))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const clientId = 'onramp'
  const clientSecret = 'upstream-client-secret-for-tests'
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: options.redirectUris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    features: { devInteractions: { enabled: true } },
    pkce: { required: () => true },
    cookies: { keys: ['upstream-cookie-key-for-tests'] },
    findAccount: async (_context: unknown, sub: string) => ({
      accountId: sub,
      claims: async () => ({ sub }),
    }),
  })
  handle = provider.callback()
  return {
    issuer,
    clientId,
    clientSecret,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/**
 * Plays the person at the upstream provider: follows its redirects with its cookies, signs in as
 * `login` on its development login page, consents, and returns where it finally sends the browser
 * (Onramp's callback). `abort` gives up on the login page instead (the provider answers `access_denied`).
 */
export async function signInUpstream(
  authorizationURL: string,
  options: { login: string; abort?: boolean },
): Promise<URL> {
  const origin = new URL(authorizationURL).origin
  const cookies = new Map<string, string>()
  let url = authorizationURL
  let init: { method: string; body?: string } = { method: 'GET' }
  for (let hops = 0; hops < 20; hops++) {
    const response = await fetch(url, {
      method: init.method,
      headers: {
        cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; '),
        ...(init.body !== undefined && { 'content-type': 'application/x-www-form-urlencoded' }),
      },
      ...(init.body !== undefined && { body: init.body }),
      redirect: 'manual',
      signal: AbortSignal.timeout(10_000),
    })
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';')
      const name = pair.slice(0, pair.indexOf('='))
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line)) cookies.delete(name)
      else cookies.set(name, pair.slice(pair.indexOf('=') + 1))
    }
    const body = await response.text()
    const location = response.headers.get('location')
    if (location) {
      const next = new URL(location, url)
      if (next.origin !== origin) return next
      url = next.href
      init = { method: 'GET' }
      continue
    }
    assert.equal(response.status, 200, body)
    const action = /<form[^>]*action="([^"]+)"/.exec(body)?.[1]
    assert.ok(action, `no form on the upstream page:\n${body}`)
    if (options.abort) {
      url = new URL(`${new URL(action, url).pathname.split('/').slice(0, 3).join('/')}/abort`, url).href
      init = { method: 'GET' }
      continue
    }
    const prompt = /name="prompt" value="(\w+)"/.exec(body)?.[1]
    const fields: Record<string, string> =
      prompt === 'login' ? { prompt, login: options.login, password: 'any' } : { prompt: prompt ?? '' }
    url = new URL(action, url).href
    init = { method: 'POST', body: new URLSearchParams(fields).toString() }
  }
  assert.fail('too many redirects at the upstream provider')
}
