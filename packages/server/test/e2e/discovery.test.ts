import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { GrantType } from '@onramp/protocol'
import { send } from '../support/http.ts'
import { createDeviceKey, decodeJWT, discover, enroll } from '../support/oauth-client.ts'
import { startTestServer, type TestServer } from '../support/server.ts'

describe('discovery and JWKS', () => {
  let server: TestServer

  before(async () => {
    server = await startTestServer()
    await server.services.tenants.create({ id: 'other' })
  })
  after(() => server?.close())

  it('serves OpenID Connect discovery that the strict client accepts for the issuer', async () => {
    const as = await discover(server.issuer(), { algorithm: 'oidc' })
    assert.equal(as.issuer, server.issuer())
    assert.equal(as.token_endpoint, `${server.issuer()}/token`)
    assert.equal(as.jwks_uri, `${server.issuer()}/jwks`)
    assert.equal(as.revocation_endpoint, `${server.issuer()}/revoke`)
    assert.equal(as.introspection_endpoint, `${server.issuer()}/introspect`)
    assert.equal(as.userinfo_endpoint, `${server.issuer()}/userinfo`)
  })

  it('serves RFC 8414 metadata at the host root, the same as the OIDC document', async () => {
    const as = await discover(server.issuer(), { algorithm: 'oauth2' })
    assert.equal(as.issuer, server.issuer())
    const oidc = await send(`${server.issuer()}/.well-known/openid-configuration`)
    const oauth2 = await send(`${server.url}/.well-known/oauth-authorization-server/t/demo`)
    assert.equal(oauth2.status, 200)
    assert.deepEqual(oauth2.body, oidc.body)
  })

  it('advertises every grant, DPoP algorithms and client authentication methods', async () => {
    const as = await discover(server.issuer())
    assert.deepEqual(
      [...(as.grant_types_supported ?? [])].sort(),
      [
        GrantType.anonymous,
        GrantType.refreshToken,
        GrantType.tokenExchange,
        GrantType.clientCredentials,
        GrantType.authorizationCode,
      ].sort(),
    )
    const algs = as.dpop_signing_alg_values_supported ?? []
    assert.ok(algs.includes('ES256'))
    assert.ok(!algs.some((alg) => alg === 'none' || alg.startsWith('HS')), `symmetric or none in ${algs}`)
    assert.deepEqual([...(as.token_endpoint_auth_methods_supported ?? [])].sort(), [
      'client_secret_basic',
      'client_secret_post',
      'none',
    ])
    assert.ok(!as.introspection_endpoint_auth_methods_supported?.includes('none'))
  })

  it('keeps each tenant its own issuer', async () => {
    const as = await discover(server.issuer('other'))
    assert.equal(as.issuer, server.issuer('other'))
    assert.equal(as.token_endpoint, `${server.issuer('other')}/token`)
  })

  it('answers 404 with a JSON error for an unknown tenant, on both discovery paths', async () => {
    for (const url of [
      `${server.issuer('nope')}/.well-known/openid-configuration`,
      `${server.url}/.well-known/oauth-authorization-server/t/nope`,
      `${server.issuer('nope')}/jwks`,
    ]) {
      const response = await send(url)
      assert.equal(response.status, 404, url)
      assert.equal(typeof (response.body as { error?: unknown }).error, 'string', url)
    }
  })

  it('publishes public signing keys only, including the key that signs access tokens', async () => {
    const response = await send(`${server.issuer()}/jwks`)
    assert.equal(response.status, 200)
    assert.match(response.headers.get('content-type') ?? '', /^application\/jwk-set\+json/)
    const { keys } = response.body as { keys: Record<string, unknown>[] }
    assert.ok(keys.length >= 1)
    for (const key of keys) {
      assert.equal(key.kty, 'EC')
      assert.equal(key.alg, 'ES256')
      assert.equal(key.use, 'sig')
      assert.equal(typeof key.kid, 'string')
      for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'])
        assert.ok(!(secret in key), `jwk has ${secret}`)
    }
    const as = await discover(server.issuer())
    const tokens = await enroll(as, await createDeviceKey())
    const { kid } = decodeJWT(tokens.access_token).header
    assert.ok(
      keys.some((key) => key.kid === kid),
      'the access token kid is not published',
    )
  })

  it('does not publish one tenant’s keys at another', async () => {
    const demo = (await send(`${server.issuer()}/jwks`)).body as { keys: { kid: string }[] }
    const other = (await send(`${server.issuer('other')}/jwks`)).body as { keys: { kid: string }[] }
    assert.ok(other.keys.length >= 1)
    for (const key of other.keys) assert.ok(!demo.keys.some((k) => k.kid === key.kid))
  })
})
