import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { GrantType } from '@onramp/protocol'
import * as oauth from 'oauth4webapi'
import {
  createDeviceKey,
  type DeviceKey,
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
import { callResource, startResourceServer } from '../support/resource-server.ts'
import { startTestServer, type TestServer } from '../support/server.ts'

/**
 * Tenant `beta` mirrors `demo`: the same client and resource names, so only the tenant boundary
 * stands between a token of one and the endpoints of the other.
 */
describe('tenant isolation', () => {
  let server: TestServer
  let alpha: oauth.AuthorizationServer
  let beta: oauth.AuthorizationServer
  let key: DeviceKey
  let tokens: oauth.TokenEndpointResponse
  let betaSecret: string

  before(async () => {
    server = await startTestServer()
    const { tenants, clients, resources } = server.services
    await tenants.create({ id: 'beta' })
    await clients.create('beta', {
      clientId: demo.client,
      type: 'public',
      scopes: ['attributes:read', 'attributes:write'],
    })
    await resources.create('beta', {
      audience: demo.resource,
      scopes: ['demo:read', 'demo:write'],
      policy: { allowedClients: [demo.client], allowAnonymous: true },
    })
    betaSecret = (
      await clients.create('beta', {
        clientId: 'beta-backend',
        type: 'confidential',
        grantTypes: [GrantType.clientCredentials],
      })
    ).clientSecret!
    alpha = await discover(server.issuer(demo.tenant))
    beta = await discover(server.issuer('beta'))
    key = await createDeviceKey()
    tokens = await enroll(alpha, key)
  })
  after(() => server?.close())

  it('refuses a token of one tenant as subject_token at another, before and after its own accepted it', async () => {
    await rejectsWithOAuthError(exchange(beta, key, tokens.access_token), {
      error: 'invalid_grant',
      status: 400,
    })
    // Verified once at its own tenant, the token is remembered there: not at the other.
    await exchange(alpha, key, tokens.access_token)
    await rejectsWithOAuthError(exchange(beta, key, tokens.access_token), {
      error: 'invalid_grant',
      status: 400,
    })
  })

  it('refuses a token of one tenant at another’s userinfo', async () => {
    await rejectsWithOAuthError(userinfo(beta, key, tokens.access_token), {
      error: 'invalid_token',
      status: 401,
    })
  })

  it('refuses a refresh token of one tenant at another, without using it up', async () => {
    await rejectsWithOAuthError(refresh(beta, key, tokens.refresh_token!), {
      error: 'invalid_grant',
      status: 400,
    })
    tokens = await refresh(alpha, key, tokens.refresh_token!)
  })

  it('ignores a revocation of one tenant’s token at another', async () => {
    const response = await oauth.revocationRequest(
      beta,
      demoClient,
      oauth.None(),
      tokens.refresh_token!,
      insecure,
    )
    await oauth.processRevocationResponse(response)
    const again = await oauth.revocationRequest(beta, demoClient, oauth.None(), tokens.access_token, insecure)
    await oauth.processRevocationResponse(again)
    tokens = await refresh(alpha, key, tokens.refresh_token!)
    assert.equal(tokens.token_type, 'dpop')
  })

  it('reports one tenant’s token inactive at another’s introspection', async () => {
    const client: oauth.Client = { client_id: 'beta-backend' }
    for (const token of [tokens.access_token, tokens.refresh_token!]) {
      const response = await oauth.introspectionRequest(
        beta,
        client,
        oauth.ClientSecretBasic(betaSecret),
        token,
        insecure,
      )
      assert.deepEqual(await oauth.processIntrospectionResponse(beta, client, response), { active: false })
    }
  })

  it('issues tokens for one tenant’s resource that the same-named resource of another refuses', async () => {
    const exchanged = await exchange(alpha, key, tokens.access_token)
    const alphaAPI = await startResourceServer(alpha, demo.resource)
    const betaAPI = await startResourceServer(beta, demo.resource)
    try {
      assert.equal((await callResource(alphaAPI, exchanged.access_token, key.dpop)).status, 200)
      assert.equal((await callResource(betaAPI, exchanged.access_token, key.dpop)).status, 401)
    } finally {
      await alphaAPI.close()
      await betaAPI.close()
    }
  })

  it('keeps devices in their tenant', async () => {
    assert.equal((await server.services.devices.list('beta')).length, 0)
    assert.ok((await server.services.devices.list(demo.tenant)).some((device) => device.jkt === key.jkt))
  })
})
