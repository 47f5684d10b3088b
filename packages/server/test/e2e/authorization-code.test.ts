import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { GrantType } from '@onramp/protocol'
import * as oauth from 'oauth4webapi'
import { createProof } from '../support/dpop-proof.ts'
import {
  Browser,
  enableHostedLogin,
  logIn,
  newCredentials,
  type PushedAuthorization,
  pushAuthorization,
  redeemCode,
  redirectUri,
} from '../support/hosted-login.ts'
import { assertOAuthError, postForm } from '../support/http.ts'
import {
  createDeviceKey,
  type DeviceKey,
  decodeJWT,
  demo,
  discover,
  enroll,
  refresh,
  rejectsWithOAuthError,
  userinfo,
} from '../support/oauth-client.ts'
import { startTestServer, type TestServer } from '../support/server.ts'

const otherApp: oauth.Client = { client_id: 'other-app', token_endpoint_auth_method: 'none' }

describe('authorization code grant', () => {
  let server: TestServer
  let as: oauth.AuthorizationServer
  let tokenURL: string

  before(async () => {
    server = await startTestServer()
    await enableHostedLogin(server.services)
    await server.services.clients.create(demo.tenant, {
      clientId: otherApp.client_id,
      type: 'public',
      grantTypes: [GrantType.authorizationCode],
      redirectUris: [redirectUri],
    })
    as = await discover(server.issuer())
    tokenURL = `${server.issuer()}/token`
  })
  after(() => server?.close())

  /** A signed-up person's code, pushed with the key (and the anonymous token, when given). */
  async function code(
    options: { key?: DeviceKey; anonymousToken?: string } = {},
  ): Promise<{ callback: URL; pushed: PushedAuthorization; code: string }> {
    const pushed = await pushAuthorization(as, options)
    const callback = await logIn(new Browser(server.url), pushed.authorizationURL, newCredentials(), {
      signUp: true,
    })
    return { callback, pushed, code: callback.searchParams.get('code')! }
  }

  /** A token request by hand, for what oauth4webapi would not send. */
  async function redeemRaw(params: Record<string, string>, key?: DeviceKey) {
    const headers = key ? { dpop: await createProof(key.keyPair, { htm: 'POST', htu: tokenURL }) } : undefined
    return postForm(
      tokenURL,
      { grant_type: 'authorization_code', client_id: demo.client, ...params },
      headers,
    )
  }

  it('issues a person’s tokens once, and revokes them when the code comes back (RFC 6749 §4.1.2)', async () => {
    const key = await createDeviceKey()
    const { callback, pushed } = await code({ key })
    const tokens = await redeemCode(as, callback, pushed, { key })
    assert.equal(typeof tokens.refresh_token, 'string')
    assert.equal(tokens.expires_in, 300)
    assert.equal(tokens.scope, 'attributes:read attributes:write')
    await userinfo(as, key, tokens.access_token)

    await rejectsWithOAuthError(redeemCode(as, callback, pushed, { key }), {
      error: 'invalid_grant',
      status: 400,
    })
    await rejectsWithOAuthError(userinfo(as, key, tokens.access_token), {
      error: 'invalid_token',
      status: 401,
    })
    await rejectsWithOAuthError(refresh(as, key, tokens.refresh_token!), {
      error: 'invalid_grant',
      status: 400,
    })
    const sid = String(decodeJWT(tokens.access_token).payload.sid)
    assert.equal(
      (await server.services.store.grants.get(demo.tenant, sid))?.revokedReason,
      'authorization_code_reuse',
    )
  })

  it('lets only one of two concurrent redemptions win, and revokes what it got', async () => {
    const key = await createDeviceKey()
    const { callback, pushed } = await code({ key })
    const results = await Promise.allSettled([
      redeemCode(as, callback, pushed, { key }),
      redeemCode(as, callback, pushed, { key }),
    ])
    const won = results.filter((r) => r.status === 'fulfilled')
    assert.equal(won.length, 1)
    const tokens = (won[0] as PromiseFulfilledResult<oauth.TokenEndpointResponse>).value
    await rejectsWithOAuthError(refresh(as, key, tokens.refresh_token!), {
      error: 'invalid_grant',
      status: 400,
    })
  })

  it('checks the PKCE verifier, without using up the code on a wrong one', async () => {
    const key = await createDeviceKey()
    const { callback, pushed, code: value } = await code({ key })
    const wrong = oauth.generateRandomCodeVerifier()
    await rejectsWithOAuthError(redeemCode(as, callback, pushed, { key, codeVerifier: wrong }), {
      error: 'invalid_grant',
      status: 400,
    })
    assertOAuthError(await redeemRaw({ code: value, redirect_uri: redirectUri }, key), 400, 'invalid_grant')
    assertOAuthError(
      await redeemRaw({ code: value, redirect_uri: redirectUri, code_verifier: 'too-short' }, key),
      400,
      'invalid_grant',
    )
    const tokens = await redeemCode(as, callback, pushed, { key })
    assert.equal(decodeJWT(tokens.access_token).payload.acr, '1')
  })

  it('requires a proof by the key the code is bound to, and binds the tokens to it (RFC 9449 §10)', async () => {
    const device = await createDeviceKey()
    const anonymous = await enroll(as, device)
    const { callback, pushed } = await code({ key: device, anonymousToken: anonymous.access_token })
    const thief = await createDeviceKey()
    await rejectsWithOAuthError(redeemCode(as, callback, pushed, { key: thief }), {
      error: 'invalid_grant',
      status: 400,
    })
    await rejectsWithOAuthError(redeemCode(as, callback, pushed), { error: 'invalid_grant', status: 400 })
    const tokens = await redeemCode(as, callback, pushed, { key: device })
    assert.deepEqual(decodeJWT(tokens.access_token).payload.cnf, { jkt: device.jkt })
    // The refresh token is bound to the key too.
    await rejectsWithOAuthError(refresh(as, thief, tokens.refresh_token!), {
      error: 'invalid_grant',
      status: 400,
    })
    await refresh(as, device, tokens.refresh_token!)
  })

  it('issues Bearer tokens for a code pushed and redeemed without DPoP', async () => {
    const { callback, pushed } = await code()
    const tokens = await redeemCode(as, callback, pushed)
    assert.equal(tokens.token_type, 'bearer')
    assert.equal(decodeJWT(tokens.access_token).payload.cnf, undefined)
  })

  it('requires the exact redirect_uri and the client the code was issued to', async () => {
    const key = await createDeviceKey()
    const { code: value, pushed } = await code({ key })
    const params = { code: value, code_verifier: pushed.codeVerifier }
    assertOAuthError(
      await redeemRaw({ ...params, redirect_uri: `${redirectUri}/` }, key),
      400,
      'invalid_grant',
    )
    assertOAuthError(await redeemRaw(params, key), 400, 'invalid_grant')
    assertOAuthError(
      await redeemRaw({ ...params, redirect_uri: redirectUri, client_id: otherApp.client_id }, key),
      400,
      'invalid_grant',
    )
    const response = await redeemRaw({ ...params, redirect_uri: redirectUri }, key)
    assert.equal(response.status, 200, JSON.stringify(response.body))
    assert.equal(response.headers.get('cache-control'), 'no-store')
  })

  it('runs without PKCE only for a client exempted from it, and then refuses a verifier', async () => {
    await server.services.clients.create(demo.tenant, {
      clientId: 'no-pkce-app',
      type: 'public',
      grantTypes: [GrantType.authorizationCode],
      redirectUris: [redirectUri],
      pkceRequired: false,
    })
    const client: oauth.Client = { client_id: 'no-pkce-app', token_endpoint_auth_method: 'none' }
    const authorize = async (): Promise<URL> => {
      const query = new URLSearchParams({
        response_type: 'code',
        client_id: client.client_id,
        redirect_uri: redirectUri,
        state: 's',
      })
      return logIn(new Browser(server.url), `${as.authorization_endpoint}?${query}`, newCredentials(), {
        signUp: true,
      })
    }
    const redeem = async (callback: URL, verifier: string | typeof oauth.nopkce) =>
      oauth.processAuthorizationCodeResponse(
        as,
        client,
        await oauth.authorizationCodeGrantRequest(
          as,
          client,
          oauth.None(),
          oauth.validateAuthResponse(as, client, callback, 's'),
          redirectUri,
          verifier,
          { [oauth.allowInsecureRequests]: true },
        ),
      )
    await rejectsWithOAuthError(redeem(await authorize(), oauth.generateRandomCodeVerifier()), {
      error: 'invalid_grant',
      status: 400,
    })
    const tokens = await redeem(await authorize(), oauth.nopkce)
    assert.equal(decodeJWT(tokens.access_token).payload.client_id, 'no-pkce-app')
  })

  it('refuses malformed and unknown codes, and clients not allowed the grant', async () => {
    for (const value of ['', 'garbage', `${'0'.repeat(26)}.${'A'.repeat(43)}`]) {
      const response = await redeemRaw({
        code: value,
        redirect_uri: redirectUri,
        code_verifier: 'x'.repeat(43),
      })
      assertOAuthError(response, 400, value === '' ? 'invalid_request' : 'invalid_grant')
    }
    await server.services.clients.create(demo.tenant, { clientId: 'anonymous-only', type: 'public' })
    const response = await redeemRaw({ client_id: 'anonymous-only', code: 'x', redirect_uri: redirectUri })
    assertOAuthError(response, 400, 'unauthorized_client')
  })
})
