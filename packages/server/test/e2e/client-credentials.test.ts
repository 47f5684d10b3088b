import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { GrantType } from '@onramp/protocol'
import * as oauth from 'oauth4webapi'
import { assertOAuthError, postForm } from '../support/http.ts'
import {
  createDeviceKey,
  decodeJWT,
  demo,
  discover,
  insecure,
  rejectsWithOAuthError,
} from '../support/oauth-client.ts'
import { callResource, type ResourceServer, startResourceServer } from '../support/resource-server.ts'
import { startTestServer, type TestServer } from '../support/server.ts'

const backend: oauth.Client = { client_id: 'reporting-backend' }
const reports = 'https://reports.example.com'

describe('client credentials grant', () => {
  let server: TestServer
  let as: oauth.AuthorizationServer
  let secret: string
  let api: ResourceServer

  before(async () => {
    server = await startTestServer()
    as = await discover(server.issuer())
    const created = await server.services.clients.create(demo.tenant, {
      clientId: backend.client_id,
      type: 'confidential',
      grantTypes: [GrantType.clientCredentials],
      scopes: ['reports:read', 'reports:write'],
    })
    secret = created.clientSecret!
    await server.services.resources.create(demo.tenant, {
      audience: reports,
      scopes: ['reports:read', 'reports:write'],
      policy: { allowedClients: [backend.client_id], allowAnonymous: false },
    })
    api = await startResourceServer(as, reports)
  })
  after(async () => {
    await api?.close()
    await server?.close()
  })

  function grant(
    auth: oauth.ClientAuth,
    parameters: Record<string, string> = {},
    options: { DPoP?: oauth.DPoPHandle; client?: oauth.Client } = {},
  ): Promise<oauth.TokenEndpointResponse> {
    const client = options.client ?? backend
    return oauth
      .clientCredentialsGrantRequest(as, client, auth, parameters, {
        ...insecure,
        ...(options.DPoP && { DPoP: options.DPoP }),
      })
      .then((response) => oauth.processClientCredentialsResponse(as, client, response))
  }

  for (const [method, auth] of [
    ['client_secret_basic', () => oauth.ClientSecretBasic(secret)],
    ['client_secret_post', () => oauth.ClientSecretPost(secret)],
  ] as const) {
    it(`issues a Bearer token to a confidential client authenticated with ${method}`, async () => {
      const tokens = await grant(auth())
      assert.equal(tokens.token_type, 'bearer')
      assert.equal(tokens.refresh_token, undefined)
      assert.equal(tokens.scope, 'reports:read reports:write')
      const { header, payload } = decodeJWT(tokens.access_token)
      assert.equal(header.typ, 'at+jwt')
      assert.equal(payload.sub, backend.client_id)
      assert.equal(payload.client_id, backend.client_id)
      assert.equal(payload.aud, server.issuer())
      assert.equal(payload.cnf, undefined)
    })
  }

  it('refuses a wrong secret with Basic: 401 invalid_client and a Basic challenge', async () => {
    const { challenges, response } = await rejectsWithOAuthError(grant(oauth.ClientSecretBasic('wrong')), {
      error: 'invalid_client',
      status: 401,
    })
    assert.equal(challenges?.[0]?.scheme, 'basic')
    assert.match(response.headers.get('cache-control') ?? '', /no-store/)
  })

  it('refuses a wrong or missing secret in the body: 401 invalid_client', async () => {
    await rejectsWithOAuthError(grant(oauth.ClientSecretPost('wrong')), {
      error: 'invalid_client',
      status: 401,
    })
    await rejectsWithOAuthError(grant(oauth.None()), { error: 'invalid_client', status: 401 })
  })

  it('refuses an unknown client: 401 invalid_client', async () => {
    await rejectsWithOAuthError(
      grant(oauth.ClientSecretBasic(secret), {}, { client: { client_id: 'ghost' } }),
      {
        error: 'invalid_client',
        status: 401,
      },
    )
  })

  it('refuses two authentication methods at once', async () => {
    const basic = `Basic ${Buffer.from(`${backend.client_id}:${secret}`).toString('base64')}`
    const response = await postForm(
      `${server.issuer()}/token`,
      { grant_type: 'client_credentials', client_secret: secret },
      { authorization: basic },
    )
    assertOAuthError(response, 400, 'invalid_request')
  })

  it('refuses public clients', async () => {
    await rejectsWithOAuthError(
      grant(oauth.None(), {}, { client: { client_id: demo.client, token_endpoint_auth_method: 'none' } }),
      { error: 'unauthorized_client', status: 400 },
    )
    await rejectsWithOAuthError(
      grant(oauth.ClientSecretPost('guess'), {}, { client: { client_id: demo.client } }),
      { error: 'invalid_client', status: 401 },
    )
  })

  it('grants a subset of the client’s scopes, and refuses others', async () => {
    const tokens = await grant(oauth.ClientSecretBasic(secret), { scope: 'reports:read' })
    assert.equal(tokens.scope, 'reports:read')
    await rejectsWithOAuthError(grant(oauth.ClientSecretBasic(secret), { scope: 'reports:read demo:read' }), {
      error: 'invalid_scope',
      status: 400,
    })
  })

  it('issues a token for a registered resource named by `resource` or `audience`', async () => {
    for (const parameter of ['resource', 'audience']) {
      const tokens = await grant(oauth.ClientSecretBasic(secret), { [parameter]: reports })
      assert.equal(decodeJWT(tokens.access_token).payload.aud, reports)
      const call = await callResource(api, tokens.access_token, undefined)
      assert.equal(call.status, 200, JSON.stringify(call.body))
      assert.equal(call.body.client_id, backend.client_id)
    }
  })

  it('refuses unknown or conflicting targets with invalid_target', async () => {
    await rejectsWithOAuthError(
      grant(oauth.ClientSecretBasic(secret), { resource: 'https://unknown.example' }),
      {
        error: 'invalid_target',
        status: 400,
      },
    )
    await rejectsWithOAuthError(
      grant(oauth.ClientSecretBasic(secret), { resource: reports, audience: demo.resource }),
      {
        error: 'invalid_target',
        status: 400,
      },
    )
  })

  it('refuses a resource whose policy does not allow the client', async () => {
    await rejectsWithOAuthError(grant(oauth.ClientSecretBasic(secret), { resource: demo.resource }), {
      error: 'invalid_target',
      status: 400,
    })
  })

  it('binds the token to a DPoP key when the request carries a proof', async () => {
    const key = await createDeviceKey()
    const tokens = await grant(oauth.ClientSecretBasic(secret), { resource: reports }, { DPoP: key.dpop })
    assert.equal(tokens.token_type, 'dpop')
    assert.deepEqual(decodeJWT(tokens.access_token).payload.cnf, { jkt: key.jkt })
    assert.equal((await callResource(api, tokens.access_token, key.dpop)).status, 200)
    assert.equal((await callResource(api, tokens.access_token, undefined)).status, 401)
  })
})
