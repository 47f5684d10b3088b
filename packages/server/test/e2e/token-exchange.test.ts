import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { GrantType, TokenType } from '@onramp/protocol'
import * as oauth from 'oauth4webapi'
import { createProof } from '../support/dpop-proof.ts'
import { postForm } from '../support/http.ts'
import {
  createDeviceKey,
  type DeviceKey,
  decodeJWT,
  demo,
  demoClient,
  discover,
  type EnrollOptions,
  enroll,
  exchange,
  insecure,
  rejectsWithOAuthError,
} from '../support/oauth-client.ts'
import { callResource, type ResourceServer, startResourceServer } from '../support/resource-server.ts'
import { startTestServer, type TestServer } from '../support/server.ts'

describe('token exchange', () => {
  let server: TestServer
  let as: oauth.AuthorizationServer
  let api: ResourceServer

  before(async () => {
    server = await startTestServer()
    as = await discover(server.issuer())
    api = await startResourceServer(as, demo.resource)
    const { resources, clients } = server.services
    const policy = { allowedClients: [demo.client], allowAnonymous: true }
    await resources.create(demo.tenant, {
      audience: 'other-clients-api',
      scopes: ['x'],
      policy: { ...policy, allowedClients: ['someone-else'] },
    })
    await resources.create(demo.tenant, {
      audience: 'identified-only',
      scopes: ['x'],
      policy: { ...policy, allowAnonymous: false },
    })
    await resources.create(demo.tenant, {
      audience: 'acr-1',
      scopes: ['x'],
      policy: { ...policy, minAcr: '1' },
    })
    await resources.create(demo.tenant, {
      audience: 'biometric-only',
      scopes: ['x'],
      policy: { ...policy, authenticationModes: ['biometric'] },
    })
    await resources.create(demo.tenant, {
      audience: 'short-lived',
      scopes: ['x'],
      policy,
      accessTokenTtl: 60,
    })
    await clients.create(demo.tenant, { clientId: 'other-app', type: 'public' })
  })
  after(async () => {
    await api?.close()
    await server?.close()
  })

  async function subject(options?: EnrollOptions): Promise<{ key: DeviceKey; accessToken: string }> {
    const key = await createDeviceKey()
    return { key, accessToken: (await enroll(as, key, options)).access_token }
  }

  it('exchanges an anonymous token for a DPoP-bound token of the resource', async () => {
    const { key, accessToken } = await subject()
    const tokens = await exchange(as, key, accessToken)
    assert.equal(tokens.issued_token_type, TokenType.accessToken)
    assert.equal(tokens.token_type, 'dpop')
    assert.equal(tokens.refresh_token, undefined)
    assert.equal(tokens.scope, 'demo:read demo:write')
    const { header, payload } = decodeJWT(tokens.access_token)
    const original = decodeJWT(accessToken).payload
    assert.equal(header.typ, 'at+jwt')
    assert.equal(payload.aud, demo.resource)
    assert.equal(payload.iss, server.issuer())
    assert.equal(payload.sub, original.sub)
    assert.equal(payload.sid, original.sid)
    assert.equal(payload.acr, '0')
    assert.deepEqual(payload.amr, original.amr)
    assert.deepEqual(payload.cnf, { jkt: key.jkt })
    assert.equal(payload.scope, 'demo:read demo:write')
  })

  it('says token_type "DPoP" on the wire', async () => {
    const { key, accessToken } = await subject()
    const url = `${server.issuer()}/token`
    const response = await postForm(
      url,
      {
        grant_type: GrantType.tokenExchange,
        client_id: demo.client,
        subject_token: accessToken,
        subject_token_type: TokenType.accessToken,
        audience: demo.resource,
      },
      { dpop: await createProof(key.keyPair, { htm: 'POST', htu: url }) },
    )
    assert.equal(response.status, 200, JSON.stringify(response.body))
    assert.equal((response.body as { token_type?: unknown }).token_type, 'DPoP')
  })

  it('issues a token that an independent resource server accepts with a proof of the same key only', async () => {
    const { key, accessToken } = await subject()
    const tokens = await exchange(as, key, accessToken)
    const ok = await callResource(api, tokens.access_token, key.dpop)
    assert.equal(ok.status, 200, JSON.stringify(ok.body))
    assert.equal(ok.body.sub, decodeJWT(accessToken).payload.sub)
    assert.equal((await callResource(api, tokens.access_token, (await createDeviceKey()).dpop)).status, 401)
    assert.equal((await callResource(api, tokens.access_token, undefined)).status, 401)
    // The resource refuses the original token: its audience is the issuer, not the resource.
    assert.equal((await callResource(api, accessToken, key.dpop)).status, 401)
  })

  it('grants a requested subset of the resource’s scopes, and refuses scopes outside it', async () => {
    const { key, accessToken } = await subject()
    const narrow = await exchange(as, key, accessToken, { scope: 'demo:read' })
    assert.equal(narrow.scope, 'demo:read')
    assert.equal(decodeJWT(narrow.access_token).payload.scope, 'demo:read')
    for (const scope of ['demo:read attributes:read', 'admin']) {
      await rejectsWithOAuthError(exchange(as, key, accessToken, { scope }), {
        error: 'invalid_scope',
        status: 400,
      })
    }
  })

  it('uses the resource’s access token lifetime', async () => {
    const { key, accessToken } = await subject()
    const tokens = await exchange(as, key, accessToken, { audience: 'short-lived' })
    assert.equal(tokens.expires_in, 60)
    const { payload } = decodeJWT(tokens.access_token)
    assert.equal((payload.exp as number) - (payload.iat as number), 60)
  })

  it('refuses a DPoP-bound subject token with another key’s proof, or without a proof', async () => {
    const { accessToken } = await subject()
    await rejectsWithOAuthError(exchange(as, await createDeviceKey(), accessToken), {
      error: 'invalid_grant',
      status: 400,
    })
    await rejectsWithOAuthError(exchange(as, undefined, accessToken), { error: 'invalid_grant', status: 400 })
  })

  it('refuses an unknown audience with invalid_target', async () => {
    const { key, accessToken } = await subject()
    await rejectsWithOAuthError(exchange(as, key, accessToken, { audience: 'nowhere' }), {
      error: 'invalid_target',
      status: 400,
    })
  })

  it('applies the resource policy: allowed clients, anonymous subjects, minimum acr, authentication modes', async () => {
    const { key, accessToken } = await subject({ mode: 'password' })
    const refusals = {
      'other-clients-api': /client/,
      'identified-only': /anonymous/,
      'acr-1': /acr/,
      'biometric-only': /authentication mode/,
    }
    for (const [audience, reason] of Object.entries(refusals)) {
      const { body } = await rejectsWithOAuthError(exchange(as, key, accessToken, { audience }), {
        error: 'invalid_target',
        status: 400,
      })
      assert.match(String(body.error_description), reason, audience)
    }
    const biometric = await subject({ mode: 'biometric', hardwareKey: true })
    const tokens = await exchange(as, biometric.key, biometric.accessToken, { audience: 'biometric-only' })
    assert.equal(decodeJWT(tokens.access_token).payload.aud, 'biometric-only')
  })

  it('does not accept an exchanged token as a subject token', async () => {
    const { key, accessToken } = await subject()
    const exchanged = await exchange(as, key, accessToken)
    await rejectsWithOAuthError(exchange(as, key, exchanged.access_token), {
      error: 'invalid_grant',
      status: 400,
    })
  })

  it('does not accept a subject token issued to another client', async () => {
    const { key, accessToken } = await subject()
    await rejectsWithOAuthError(
      exchange(as, key, accessToken, {
        client: { client_id: 'other-app', token_endpoint_auth_method: 'none' },
      }),
      { error: 'invalid_grant', status: 400 },
    )
  })

  it('refuses a subject token whose family was revoked, and reports its exchanged tokens inactive', async () => {
    const { key, accessToken } = await subject()
    const exchanged = await exchange(as, key, accessToken)
    const revoke = await oauth.revocationRequest(as, demoClient, oauth.None(), accessToken, insecure)
    await oauth.processRevocationResponse(revoke)
    await rejectsWithOAuthError(exchange(as, key, accessToken), { error: 'invalid_grant', status: 400 })
    const backend = await server.services.clients.create(demo.tenant, {
      clientId: 'introspecting-backend',
      type: 'confidential',
      grantTypes: ['client_credentials'],
    })
    const response = await oauth.introspectionRequest(
      as,
      { client_id: 'introspecting-backend' },
      oauth.ClientSecretBasic(backend.clientSecret!),
      exchanged.access_token,
      insecure,
    )
    const introspection = await oauth.processIntrospectionResponse(
      as,
      { client_id: 'introspecting-backend' },
      response,
    )
    assert.equal(introspection.active, false)
  })

  it('refuses garbage subject tokens', async () => {
    const key = await createDeviceKey()
    for (const token of ['nope', 'a.b.c', `${'e'.repeat(30)}.${'e'.repeat(30)}.${'e'.repeat(30)}`]) {
      await rejectsWithOAuthError(exchange(as, key, token), { error: 'invalid_grant', status: 400 })
    }
  })

  it('refuses malformed exchange requests with invalid_request', async () => {
    const { key, accessToken } = await subject()
    const cases: Record<string, string>[] = [
      { subject_token_type: TokenType.refreshToken },
      { subject_token_type: 'urn:example:unknown' },
      { requested_token_type: TokenType.refreshToken },
      { actor_token: accessToken, actor_token_type: TokenType.accessToken },
      { audience: '' },
    ]
    for (const extra of cases) {
      await rejectsWithOAuthError(exchange(as, key, accessToken, { extra }), {
        error: 'invalid_request',
        status: 400,
      })
    }
    // The subject token survives all of that.
    await exchange(as, key, accessToken)
  })

  it('refuses an expired subject token', async () => {
    await server.services.tenants.create({ id: 'brief', settings: { accessTokenTtl: 1 } })
    await server.services.clients.create('brief', { clientId: demo.client, type: 'public' })
    await server.services.resources.create('brief', {
      audience: demo.resource,
      scopes: ['demo:read'],
      policy: { allowedClients: [demo.client], allowAnonymous: true },
    })
    const brief = await discover(server.issuer('brief'))
    const key = await createDeviceKey()
    const tokens = await enroll(brief, key)
    await sleep(1100)
    const { body } = await rejectsWithOAuthError(exchange(brief, key, tokens.access_token), {
      error: 'invalid_grant',
      status: 400,
    })
    assert.match(String(body.error_description), /expired/)
  })
})
