import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { GrantType } from '@onramp/protocol'
import * as oauth from 'oauth4webapi'
import { assertOAuthError, postForm } from '../support/http.ts'
import {
  createDeviceKey,
  type DeviceKey,
  decodeJWT,
  demo,
  demoClient,
  discover,
  enroll,
  exchange,
  insecure,
  refresh,
  rejectsWithOAuthError,
  userinfo,
} from '../support/oauth-client.ts'
import { startTestServer, type TestServer } from '../support/server.ts'

const backend: oauth.Client = { client_id: 'resource-backend' }
const otherApp: oauth.Client = { client_id: 'other-app', token_endpoint_auth_method: 'none' }

describe('revocation and introspection', () => {
  let server: TestServer
  let as: oauth.AuthorizationServer
  let secret: string

  before(async () => {
    server = await startTestServer()
    as = await discover(server.issuer())
    const created = await server.services.clients.create(demo.tenant, {
      clientId: backend.client_id,
      type: 'confidential',
      grantTypes: [GrantType.clientCredentials],
    })
    secret = created.clientSecret!
    await server.services.clients.create(demo.tenant, { clientId: otherApp.client_id, type: 'public' })
  })
  after(() => server?.close())

  async function enrolled(): Promise<{ key: DeviceKey; tokens: oauth.TokenEndpointResponse }> {
    const key = await createDeviceKey()
    return { key, tokens: await enroll(as, key) }
  }

  async function revoke(
    token: string,
    options: { client?: oauth.Client; hint?: string } = {},
  ): Promise<void> {
    const response = await oauth.revocationRequest(as, options.client ?? demoClient, oauth.None(), token, {
      ...insecure,
      ...(options.hint && { additionalParameters: { token_type_hint: options.hint } }),
    })
    await oauth.processRevocationResponse(response)
  }

  async function introspect(token: string, auth?: oauth.ClientAuth): Promise<oauth.IntrospectionResponse> {
    const response = await oauth.introspectionRequest(
      as,
      backend,
      auth ?? oauth.ClientSecretBasic(secret),
      token,
      insecure,
    )
    return oauth.processIntrospectionResponse(as, backend, response)
  }

  it('introspects an active access token for a confidential client', async () => {
    const { key, tokens } = await enrolled()
    const result = await introspect(tokens.access_token)
    const claims = decodeJWT(tokens.access_token).payload
    assert.equal(result.active, true)
    assert.equal(result.sub, claims.sub)
    assert.equal(result.client_id, demo.client)
    assert.equal(result.scope, tokens.scope)
    assert.equal(result.iss, server.issuer())
    assert.equal(result.exp, claims.exp)
    assert.equal(result.token_type, 'DPoP')
    assert.deepEqual(result.cnf, { jkt: key.jkt })
  })

  it('kills the whole family when a refresh token is revoked', async () => {
    const { key, tokens } = await enrolled()
    const exchanged = await exchange(as, key, tokens.access_token)
    await revoke(tokens.refresh_token!, { hint: 'refresh_token' })
    await rejectsWithOAuthError(refresh(as, key, tokens.refresh_token!), {
      error: 'invalid_grant',
      status: 400,
    })
    assert.deepEqual(await introspect(tokens.access_token), { active: false })
    assert.deepEqual(await introspect(exchanged.access_token), { active: false })
    await rejectsWithOAuthError(userinfo(as, key, tokens.access_token), {
      error: 'invalid_token',
      status: 401,
    })
    await rejectsWithOAuthError(exchange(as, key, tokens.access_token), {
      error: 'invalid_grant',
      status: 400,
    })
  })

  it('kills the whole family when an access token is revoked', async () => {
    const { key, tokens } = await enrolled()
    await revoke(tokens.access_token, { hint: 'access_token' })
    await rejectsWithOAuthError(refresh(as, key, tokens.refresh_token!), {
      error: 'invalid_grant',
      status: 400,
    })
    assert.deepEqual(await introspect(tokens.access_token), { active: false })
  })

  it('answers 200 to unknown tokens and to other clients’ tokens, which stay valid', async () => {
    await revoke('no-such-token')
    await revoke('a.b.c', { hint: 'access_token' })
    const { key, tokens } = await enrolled()
    await revoke(tokens.refresh_token!, { client: otherApp })
    await revoke(tokens.access_token, { client: otherApp })
    assert.equal((await introspect(tokens.access_token)).active, true)
    await refresh(as, key, tokens.refresh_token!)
  })

  it('refuses a revocation request without a token, or from an unauthenticated client', async () => {
    const url = `${server.issuer()}/revoke`
    assertOAuthError(await postForm(url, { client_id: demo.client }), 400, 'invalid_request')
    assertOAuthError(await postForm(url, { token: 'x' }), 401, 'invalid_client')
    assertOAuthError(
      await postForm(url, { token: 'x', client_id: backend.client_id, client_secret: 'wrong' }),
      401,
      'invalid_client',
    )
  })

  it('requires a confidential client for introspection', async () => {
    const { tokens } = await enrolled()
    const response = await oauth.introspectionRequest(
      as,
      demoClient,
      oauth.None(),
      tokens.access_token,
      insecure,
    )
    await rejectsWithOAuthError(oauth.processIntrospectionResponse(as, demoClient, response), {
      error: 'invalid_client',
      status: 401,
    })
    await rejectsWithOAuthError(introspect(tokens.access_token, oauth.ClientSecretBasic('wrong')), {
      error: 'invalid_client',
      status: 401,
    })
    assertOAuthError(
      await postForm(`${server.issuer()}/introspect`, { token: tokens.access_token }),
      401,
      'invalid_client',
    )
  })

  it('reports garbage and other clients’ refresh tokens inactive, revealing nothing', async () => {
    const { tokens } = await enrolled()
    for (const token of ['garbage', 'a.b.c', tokens.refresh_token!]) {
      assert.deepEqual(await introspect(token), { active: false })
    }
  })

  it('lets a resource server introspect with its secret, showing it only tokens meant for it', async () => {
    const other = 'https://other-api.example/'
    await server.services.resources.create(demo.tenant, {
      audience: other,
      policy: { allowedClients: [demo.client], allowAnonymous: true },
    })
    const resource: oauth.Client = { client_id: demo.resource }
    const introspectAs = async (token: string, auth: oauth.ClientAuth) =>
      oauth.processIntrospectionResponse(
        as,
        resource,
        await oauth.introspectionRequest(as, resource, auth, token, insecure),
      )

    // Without a secret the resource cannot call at all.
    const { key, tokens } = await enrolled()
    const exchanged = await exchange(as, key, tokens.access_token)
    await rejectsWithOAuthError(introspectAs(exchanged.access_token, oauth.ClientSecretBasic('guess')), {
      error: 'invalid_client',
      status: 401,
    })

    const resourceSecret = await server.services.resources.rotateSecret(demo.tenant, demo.resource)
    const result = await introspectAs(exchanged.access_token, oauth.ClientSecretBasic(resourceSecret))
    assert.equal(result.active, true)
    assert.equal(result.aud, demo.resource)
    assert.equal(result.sub, decodeJWT(tokens.access_token).payload.sub)
    // In the body works too (client_secret_post).
    assert.equal(
      (await introspectAs(exchanged.access_token, oauth.ClientSecretPost(resourceSecret))).active,
      true,
    )

    // Tokens for another audience, the device's own tokens and refresh tokens: inactive to it.
    const forOther = await exchange(as, key, tokens.access_token, { audience: other })
    for (const token of [forOther.access_token, tokens.access_token, tokens.refresh_token!]) {
      assert.deepEqual(await introspectAs(token, oauth.ClientSecretBasic(resourceSecret)), { active: false })
    }
    // Revoked families are inactive to it as to anyone.
    await revoke(tokens.refresh_token!)
    assert.deepEqual(await introspectAs(exchanged.access_token, oauth.ClientSecretBasic(resourceSecret)), {
      active: false,
    })

    // A rotated secret replaces the old one at once; a removed one ends the resource's access.
    const rotated = await server.services.resources.rotateSecret(demo.tenant, demo.resource)
    await rejectsWithOAuthError(introspectAs('x', oauth.ClientSecretBasic(resourceSecret)), {
      error: 'invalid_client',
      status: 401,
    })
    assert.deepEqual(await introspectAs('x', oauth.ClientSecretBasic(rotated)), { active: false })
    await server.services.resources.removeSecret(demo.tenant, demo.resource)
    await rejectsWithOAuthError(introspectAs('x', oauth.ClientSecretBasic(rotated)), {
      error: 'invalid_client',
      status: 401,
    })
  })

  it('refuses an introspection request without a token', async () => {
    const response = await postForm(`${server.issuer()}/introspect`, {
      client_id: backend.client_id,
      client_secret: secret,
    })
    assertOAuthError(response, 400, 'invalid_request')
  })
})
