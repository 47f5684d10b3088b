import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { sha256Base64url } from '@onramp/crypto'
import { GrantType } from '@onramp/protocol'
import { createResourceVerifier } from '@onramp/resource'
import type * as oauth from 'oauth4webapi'
import { createProof } from '../support/dpop-proof.ts'
import { send } from '../support/http.ts'
import {
  createDeviceKey,
  decodeJWT,
  discover,
  enroll,
  exchange,
  rejectsWithOAuthError,
  userinfo,
} from '../support/oauth-client.ts'
import { callResource, type ResourceServer, startResourceServer } from '../support/resource-server.ts'
import { startTestServer, type TestServer } from '../support/server.ts'

// DESIGN §4: access tokens are ES256 by default, EdDSA (Ed25519, RFC 9864's name) where a tenant
// chooses it.
describe('signing algorithms', () => {
  let server: TestServer
  const app: oauth.Client = { client_id: 'app', token_endpoint_auth_method: 'none' }
  const audience = 'https://api.example/'

  before(async () => {
    server = await startTestServer()
  })
  after(() => server?.close())

  async function newTenant(id: string, settings: { signingAlg?: 'ES256' | 'Ed25519' }) {
    const { services } = server
    await services.tenants.create({ id, settings })
    await services.clients.create(id, {
      clientId: app.client_id,
      type: 'public',
      grantTypes: [GrantType.anonymous, GrantType.refreshToken, GrantType.tokenExchange],
    })
    await services.resources.create(id, {
      audience,
      policy: { allowedClients: [app.client_id], allowAnonymous: true },
    })
    return discover(server.issuer(id))
  }

  async function publishedKeys(tenant: string): Promise<Record<string, string>[]> {
    return ((await send(`${server.issuer(tenant)}/jwks`)).body as { keys: Record<string, string>[] }).keys
  }

  it('signs with Ed25519 where the tenant chose it, and a third-party backend accepts the tokens', async () => {
    const as = await newTenant('edwards', { signingAlg: 'Ed25519' })
    const [published] = await publishedKeys('edwards')
    assert.equal(published?.kty, 'OKP')
    assert.equal(published?.crv, 'Ed25519')
    assert.equal(published?.alg, 'Ed25519')
    assert.equal('y' in published!, false)

    const key = await createDeviceKey()
    const tokens = await enroll(as, key, { client: app })
    const { header } = decodeJWT(tokens.access_token)
    assert.equal(header.alg, 'Ed25519')
    assert.equal(header.kid, published?.kid)
    // Onramp's own endpoints verify it, and the exchanged token passes a strict backend.
    assert.ok((await userinfo(as, key, tokens.access_token)).sub)
    const exchanged = await exchange(as, key, tokens.access_token, { client: app, audience })
    assert.equal(decodeJWT(exchanged.access_token).header.alg, 'Ed25519')
    const api: ResourceServer = await startResourceServer(as, audience)
    try {
      const called = await callResource(api, exchanged.access_token, key.dpop)
      assert.equal(called.status, 200, JSON.stringify(called.body))
    } finally {
      await api.close()
    }

    // So does Onramp's own resource kit, told to expect Ed25519.
    const verifier = createResourceVerifier({
      issuer: server.issuer('edwards'),
      audience,
      algorithms: ['Ed25519'],
    })
    const url = 'https://api.example/orders'
    const request = async () =>
      new Request(url, {
        headers: {
          authorization: `DPoP ${exchanged.access_token}`,
          dpop: await createProof(key.keyPair, {
            htm: 'GET',
            htu: url,
            ath: sha256Base64url(exchanged.access_token),
          }),
        },
      })
    const verified = await verifier.verifyRequest(await request())
    assert.equal(verified.access.claims.sub, decodeJWT(tokens.access_token).payload.sub)
    // With its default (ES256 only) it refuses them.
    await assert.rejects(
      createResourceVerifier({ issuer: server.issuer('edwards'), audience }).verifyRequest(await request()),
    )
  })

  it('switches algorithm with a new key at once; tokens signed before keep working', async () => {
    const as = await newTenant('switching', {})
    const key = await createDeviceKey()
    const before = await enroll(as, key, { client: app })
    assert.equal(decodeJWT(before.access_token).header.alg, 'ES256')

    const updated = await server.services.tenants.update('switching', { settings: { signingAlg: 'Ed25519' } })
    assert.equal(updated.settings.signingAlg, 'Ed25519')
    const after = await enroll(as, await createDeviceKey(), { client: app })
    assert.equal(decodeJWT(after.access_token).header.alg, 'Ed25519')
    const keys = await publishedKeys('switching')
    assert.deepEqual(keys.map((k) => k.alg).sort(), ['ES256', 'Ed25519'])

    // The ES256 token of before still verifies: its key stays published until it expires.
    assert.ok((await exchange(as, key, before.access_token, { client: app, audience })).access_token)

    // A token cannot choose how its key is used: the ES256 key's kid with alg Ed25519 is refused.
    const [, payload, signature] = before.access_token.split('.')
    const relabelled = `${Buffer.from(
      JSON.stringify({ ...decodeJWT(before.access_token).header, alg: 'Ed25519' }),
    ).toString('base64url')}.${payload}.${signature}`
    await rejectsWithOAuthError(exchange(as, key, relabelled, { client: app, audience }), {
      error: 'invalid_grant',
      status: 400,
    })
  })

  it('refuses an unknown algorithm', async () => {
    await assert.rejects(
      server.services.tenants.create({ id: 'nope', settings: { signingAlg: 'HS256' as never } }),
      /signingAlg must be one of ES256, Ed25519/,
    )
    assert.equal(await server.services.tenants.find('nope'), undefined)
  })
})
