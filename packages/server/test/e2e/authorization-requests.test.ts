import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { GrantType, RequestURIPrefix } from '@onramp/protocol'
import * as oauth from 'oauth4webapi'
import { createProof } from '../support/dpop-proof.ts'
import {
  Browser,
  enableHostedLogin,
  logIn,
  newCredentials,
  pushAuthorization,
  redeemCode,
  redirectUri,
} from '../support/hosted-login.ts'
import { assertOAuthError, postForm, type RawResponse, send } from '../support/http.ts'
import {
  createDeviceKey,
  decodeJWT,
  demo,
  demoClient,
  discover,
  enroll,
  insecure,
  rejectsWithOAuthError,
} from '../support/oauth-client.ts'
import { startTestServer, type TestServer } from '../support/server.ts'

const otherApp: oauth.Client = { client_id: 'other-app', token_endpoint_auth_method: 'none' }

describe('pushed authorization requests and the authorization endpoint', () => {
  let server: TestServer
  let as: oauth.AuthorizationServer
  let parURL: string
  let authorizeURL: string

  before(async () => {
    server = await startTestServer()
    await enableHostedLogin(server.services)
    await server.services.clients.create(demo.tenant, {
      clientId: otherApp.client_id,
      type: 'public',
      grantTypes: [GrantType.anonymous, GrantType.authorizationCode],
      redirectUris: [redirectUri],
    })
    await server.services.clients.create(demo.tenant, {
      clientId: 'no-login-app',
      type: 'public',
      redirectUris: [redirectUri],
    })
    as = await discover(server.issuer())
    parURL = `${server.issuer()}/par`
    authorizeURL = `${server.issuer()}/authorize`
  })
  after(() => server?.close())

  /** A plain (not pushed) authorization request's parameters, valid unless changed. */
  async function plainParameters(extra: Record<string, string | undefined> = {}): Promise<URLSearchParams> {
    const params: Record<string, string | undefined> = {
      response_type: 'code',
      client_id: demo.client,
      redirect_uri: redirectUri,
      code_challenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()),
      code_challenge_method: 'S256',
      state: 'state-123',
      ...extra,
    }
    return new URLSearchParams(
      Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined),
    )
  }

  /** The redirect's query: the request was refused with `error`, sent back to the client with `state` and `iss`. */
  function assertErrorRedirect(
    response: { status: number; headers: Headers },
    error: string,
    state?: string,
  ): URLSearchParams {
    assert.equal(response.status, 303)
    const location = new URL(response.headers.get('location')!)
    assert.equal(`${location.origin}${location.pathname}`, redirectUri)
    assert.equal(
      location.searchParams.get('error'),
      error,
      location.searchParams.get('error_description') ?? '',
    )
    assert.equal(location.searchParams.get('iss'), server.issuer())
    assert.equal(location.searchParams.get('state'), state ?? null)
    assert.equal(location.searchParams.get('code'), null)
    return location.searchParams
  }

  /** An error page: HTML, no redirect anywhere. */
  function assertErrorPage(
    response: { status: number; headers: Headers; body: unknown },
    status = 400,
  ): void {
    assert.equal(response.status, status, String(response.body))
    assert.equal(response.headers.get('location'), null)
    assert.match(response.headers.get('content-type') ?? '', /^text\/html/)
    assert.match(String(response.body), /<h1>/)
  }

  describe('discovery', () => {
    it('advertises PAR, the authorization endpoint, S256, iss in responses and the code flow', async () => {
      assert.equal(as.pushed_authorization_request_endpoint, parURL)
      assert.equal(as.authorization_endpoint, authorizeURL)
      assert.deepEqual(as.code_challenge_methods_supported, ['S256'])
      assert.equal(as.authorization_response_iss_parameter_supported, true)
      assert.deepEqual(as.response_types_supported, ['code'])
      assert.ok(as.grant_types_supported?.includes('authorization_code'))
      assert.deepEqual(as.acr_values_supported, ['0', '1', '2'])
    })
  })

  describe('POST /par', () => {
    it('answers 201 with a one-time request_uri and its lifetime, not to be cached', async () => {
      const response = await postForm(parURL, Object.fromEntries(await plainParameters()))
      assert.equal(response.status, 201, JSON.stringify(response.body))
      assert.equal(response.headers.get('cache-control'), 'no-store')
      const body = response.body as { request_uri: string; expires_in: number }
      assert.ok(body.request_uri.startsWith(RequestURIPrefix))
      assert.equal(body.expires_in, 90)
    })

    it('authenticates the client as the token endpoint does', async () => {
      const params = Object.fromEntries(await plainParameters({ client_id: 'nobody' }))
      assertOAuthError(await postForm(parURL, params), 401, 'invalid_client')
      const confidential = await server.services.clients.create(demo.tenant, {
        clientId: 'web-backend',
        type: 'confidential',
        grantTypes: [GrantType.authorizationCode],
        redirectUris: [redirectUri],
      })
      const body = Object.fromEntries(await plainParameters({ client_id: 'web-backend' }))
      assertOAuthError(await postForm(parURL, body), 401, 'invalid_client')
      const basic = `Basic ${Buffer.from(`web-backend:${confidential.clientSecret}`).toString('base64')}`
      const accepted = await postForm(parURL, body, { authorization: basic })
      assert.equal(accepted.status, 201, JSON.stringify(accepted.body))
    })

    it('refuses bad authorization requests with JSON errors', async () => {
      const cases: [Record<string, string | undefined>, number, string][] = [
        [{ redirect_uri: undefined }, 400, 'invalid_request'],
        [{ redirect_uri: 'https://evil.example/callback' }, 400, 'invalid_request'],
        [{ redirect_uri: `${redirectUri}/more` }, 400, 'invalid_request'],
        [{ code_challenge: undefined }, 400, 'invalid_request'],
        [{ code_challenge_method: 'plain' }, 400, 'invalid_request'],
        [{ code_challenge_method: undefined }, 400, 'invalid_request'],
        [{ code_challenge: 'short' }, 400, 'invalid_request'],
        [{ response_type: 'token' }, 400, 'unsupported_response_type'],
        [{ response_type: undefined }, 400, 'invalid_request'],
        [{ scope: 'admin' }, 400, 'invalid_scope'],
        [{ prompt: 'none login' }, 400, 'invalid_request'],
        [{ prompt: 'sometimes' }, 400, 'invalid_request'],
        [{ request_uri: `${RequestURIPrefix}x` }, 400, 'invalid_request'],
        [{ request: 'eyJ.eyJ.x' }, 400, 'request_not_supported'],
        [{ dpop_jkt: 'not a thumbprint' }, 400, 'invalid_request'],
        [{ client_id: 'no-login-app' }, 400, 'unauthorized_client'],
      ]
      for (const [change, status, error] of cases) {
        const response = await postForm(parURL, Object.fromEntries(await plainParameters(change)))
        assertOAuthError(response, status, error)
      }
    })

    it('takes anonymous_token only with a DPoP proof by the key it is bound to', async () => {
      const key = await createDeviceKey()
      const anonymous = await enroll(as, key)
      const params = Object.fromEntries(await plainParameters({ anonymous_token: anonymous.access_token }))
      assertOAuthError(await postForm(parURL, params), 400, 'invalid_dpop_proof')

      const other = await createDeviceKey()
      const wrongKey = await createProof(other.keyPair, { htm: 'POST', htu: parURL })
      assertOAuthError(await postForm(parURL, params, { dpop: wrongKey }), 400, 'invalid_dpop_proof')

      const wrongURL = await createProof(key.keyPair, { htm: 'POST', htu: `${server.issuer()}/token` })
      assertOAuthError(await postForm(parURL, params, { dpop: wrongURL }), 400, 'invalid_dpop_proof')

      const mismatch = { ...params, dpop_jkt: other.jkt }
      const proof = await createProof(key.keyPair, { htm: 'POST', htu: parURL })
      assertOAuthError(await postForm(parURL, mismatch, { dpop: proof }), 400, 'invalid_dpop_proof')

      const good = await createProof(key.keyPair, { htm: 'POST', htu: parURL })
      const accepted = await postForm(parURL, params, { dpop: good })
      assert.equal(accepted.status, 201, JSON.stringify(accepted.body))
    })

    it('refuses an anonymous_token that is not a live anonymous token of this client and tenant', async () => {
      const key = await createDeviceKey()
      const proof = (): Promise<string> => createProof(key.keyPair, { htm: 'POST', htu: parURL })
      const push = async (token: string, client = demo.client) =>
        postForm(
          parURL,
          Object.fromEntries(await plainParameters({ client_id: client, anonymous_token: token })),
          {
            dpop: await proof(),
          },
        )

      assertOAuthError(await push('not-a-token'), 400, 'invalid_request')
      const otherClients = await enroll(as, key, { client: otherApp })
      assertOAuthError(await push(otherClients.access_token), 400, 'invalid_request')

      // A person's token is not an anonymous token.
      const credentials = newCredentials()
      const pushed = await pushAuthorization(as, { key })
      const callback = await logIn(new Browser(server.url), pushed.authorizationURL, credentials, {
        signUp: true,
      })
      const person = await redeemCode(as, callback, pushed, { key })
      assertOAuthError(await push(person.access_token), 400, 'invalid_request')

      // A revoked family.
      const revoked = await enroll(as, key)
      await oauth.processRevocationResponse(
        await oauth.revocationRequest(as, demoClient, oauth.None(), revoked.refresh_token!, insecure),
      )
      assertOAuthError(await push(revoked.access_token), 400, 'invalid_request')

      // Another tenant's token.
      await server.services.tenants.create({ id: 'elsewhere' })
      await server.services.clients.create('elsewhere', { clientId: demo.client, type: 'public' })
      const elsewhere = await enroll(await discover(server.issuer('elsewhere')), key)
      assertOAuthError(await push(elsewhere.access_token), 400, 'invalid_request')
    })

    it('binds the code to the PAR request’s DPoP key even without an anonymous token', async () => {
      const key = await createDeviceKey()
      const pushed = await pushAuthorization(as, { key })
      const callback = await logIn(new Browser(server.url), pushed.authorizationURL, newCredentials(), {
        signUp: true,
      })
      await rejectsWithOAuthError(redeemCode(as, callback, pushed), { error: 'invalid_grant', status: 400 })
      const tokens = await redeemCode(as, callback, pushed, { key })
      assert.deepEqual(decodeJWT(tokens.access_token).payload.cnf, { jkt: key.jkt })
    })
  })

  describe('GET /authorize', () => {
    it('shows an error page, and redirects nowhere, for an unknown client or a redirect_uri it did not register', async () => {
      const cases: Record<string, string | undefined>[] = [
        { client_id: 'nobody' },
        { client_id: undefined },
        { redirect_uri: 'https://evil.example/callback' },
        { redirect_uri: `${redirectUri}?extra=1` },
        { redirect_uri: undefined },
      ]
      for (const change of cases) {
        const response = await send(`${authorizeURL}?${await plainParameters(change)}`)
        assertErrorPage(response)
      }
      const repeated = `${authorizeURL}?${await plainParameters()}&redirect_uri=${encodeURIComponent('https://evil.example/cb')}`
      assertErrorPage(await send(repeated))
    })

    it('redirects other errors to the client with error, state and iss (RFC 6749 §4.1.2.1, RFC 9207)', async () => {
      const cases: [Record<string, string | undefined>, string][] = [
        [{ code_challenge: undefined }, 'invalid_request'],
        [{ code_challenge_method: 'plain' }, 'invalid_request'],
        [{ response_type: 'token' }, 'unsupported_response_type'],
        [{ scope: 'admin' }, 'invalid_scope'],
        [{ prompt: 'none' }, 'login_required'],
        [{ anonymous_token: 'eyJ' }, 'invalid_request'],
        [{ response_mode: 'fragment' }, 'invalid_request'],
        [{ client_id: 'no-login-app' }, 'unauthorized_client'],
      ]
      for (const [change, error] of cases) {
        const response = await send(`${authorizeURL}?${await plainParameters(change)}`)
        const query = assertErrorRedirect(response, error, 'state-123')
        assert.equal(typeof query.get('error_description'), 'string')
        assert.equal(response.headers.get('set-cookie'), null)
      }
      const repeated = await send(`${authorizeURL}?${await plainParameters()}&scope=a&scope=b`)
      assertErrorRedirect(repeated, 'invalid_request', 'state-123')
      const noState = await send(
        `${authorizeURL}?${await plainParameters({ state: undefined, code_challenge: undefined })}`,
      )
      assertErrorRedirect(noState, 'invalid_request')
    })

    it('runs a plain (not pushed) request end to end, with dpop_jkt binding the code', async () => {
      const key = await createDeviceKey()
      const codeVerifier = oauth.generateRandomCodeVerifier()
      const params = await plainParameters({
        code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
        dpop_jkt: key.jkt,
      })
      const callback = await logIn(new Browser(server.url), `${authorizeURL}?${params}`, newCredentials(), {
        signUp: true,
      })
      const pushed = { authorizationURL: '', codeVerifier, state: 'state-123' }
      const other = await createDeviceKey()
      await rejectsWithOAuthError(redeemCode(as, callback, pushed, { key: other }), {
        error: 'invalid_grant',
        status: 400,
      })
      const tokens = await redeemCode(as, callback, pushed, { key })
      assert.deepEqual(decodeJWT(tokens.access_token).payload.cnf, { jkt: key.jkt })
    })

    it('uses a request_uri once, only with the client that pushed it, ignoring parameters beside it', async () => {
      // Named by another client, a request_uri is refused, and spent.
      const stolen = await pushAuthorization(as)
      const url = new URL(stolen.authorizationURL)
      url.searchParams.set('client_id', otherApp.client_id)
      assertErrorPage(await send(url.toString()))
      assertErrorPage(await send(stolen.authorizationURL))

      // The pushed parameters count; a redirect_uri beside the request_uri changes nothing.
      const pushed = await pushAuthorization(as)
      const extra = new URL(pushed.authorizationURL)
      extra.searchParams.set('redirect_uri', 'https://evil.example/callback')
      const first = await send(extra.toString())
      assert.equal(first.status, 303)
      assert.equal(first.headers.get('location'), `${server.issuer()}/login`)
      assertErrorPage(await send(pushed.authorizationURL))

      const unknown = new URL(pushed.authorizationURL)
      unknown.searchParams.set('request_uri', `${RequestURIPrefix}${'A'.repeat(43)}`)
      assertErrorPage(await send(unknown.toString()))
      unknown.searchParams.set('request_uri', 'https://client.example/request.jwt')
      assertErrorPage(await send(unknown.toString()))
    })

    it('answers an unknown tenant with a 404 page', async () => {
      assertErrorPage(await send(`${server.issuer('nope')}/authorize?client_id=x`), 404)
    })
  })
})

describe('limits on starting authorization requests', () => {
  // A server of its own: the limits count per address, and every test here comes from 127.0.0.1.
  let server: TestServer
  const limit = 120

  before(async () => {
    server = await startTestServer()
    await enableHostedLogin(server.services)
  })
  after(() => server?.close())

  async function parameters(): Promise<Record<string, string>> {
    return {
      response_type: 'code',
      client_id: demo.client,
      redirect_uri: redirectUri,
      code_challenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()),
      code_challenge_method: 'S256',
      state: 'state-limit',
    }
  }

  /**
   * Sends until one is refused and returns that response and how many were accepted first. The
   * windows are fixed minutes, so one boundary may fall inside the loop: at most twice the limit.
   */
  async function untilRefused(
    attempt: () => Promise<RawResponse>,
    accepted: (response: RawResponse) => boolean,
  ): Promise<{ refused: RawResponse; acceptedBefore: number }> {
    for (let i = 0; i <= 2 * limit; i++) {
      const response = await attempt()
      if (!accepted(response)) return { refused: response, acceptedBefore: i }
    }
    throw new Error(`no request refused after ${2 * limit + 1}`)
  }

  it('answers pushed requests past the limit with 429 temporarily_unavailable and Retry-After', async () => {
    const { refused, acceptedBefore } = await untilRefused(
      async () =>
        send(`${server.issuer()}/par`, { method: 'POST', body: new URLSearchParams(await parameters()) }),
      (response) => response.status === 201,
    )
    assert.ok(acceptedBefore >= limit, `refused after ${acceptedBefore}`)
    assertOAuthError(refused, 429, 'temporarily_unavailable')
    const retryAfter = Number(refused.headers.get('retry-after'))
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`)
  })

  it('sends a browser starting sign-ins past the limit back to the app with temporarily_unavailable', async () => {
    const { refused, acceptedBefore } = await untilRefused(
      async () => send(`${server.issuer()}/authorize?${new URLSearchParams(await parameters())}`),
      (response) => response.headers.get('location') === `${server.issuer()}/login`,
    )
    assert.ok(acceptedBefore >= limit, `refused after ${acceptedBefore}`)
    assert.equal(refused.status, 303)
    // No interaction was started: no cookie names one.
    assert.equal(refused.headers.get('set-cookie'), null)
    const location = new URL(refused.headers.get('location')!)
    assert.equal(`${location.origin}${location.pathname}`, redirectUri)
    assert.equal(location.searchParams.get('error'), 'temporarily_unavailable')
    assert.equal(location.searchParams.get('state'), 'state-limit')
    assert.equal(location.searchParams.get('iss'), server.issuer())
  })
})
