import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { GrantType } from '@onramp/protocol'
import * as oauth from 'oauth4webapi'
import { accessTokenHash, createProof } from '../support/dpop-proof.ts'
import { assertOAuthError, type RawResponse, send } from '../support/http.ts'
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
  rejectsWithOAuthError,
  userinfo,
} from '../support/oauth-client.ts'
import { startTestServer, type TestServer } from '../support/server.ts'

describe('userinfo', () => {
  let server: TestServer
  let as: oauth.AuthorizationServer
  let url: string
  let key: DeviceKey
  let accessToken: string

  before(async () => {
    server = await startTestServer()
    as = await discover(server.issuer())
    url = `${server.issuer()}/userinfo`
    key = await createDeviceKey()
    accessToken = (await enroll(as, key, { mode: 'password' })).access_token
  })
  after(() => server?.close())

  async function call(headers: Record<string, string>, method = 'GET'): Promise<RawResponse> {
    return send(url, { method, headers })
  }

  function challenge(response: RawResponse): string {
    return response.headers.get('www-authenticate') ?? ''
  }

  it('answers a DPoP-bound token with a proof of its key: sub and how it authenticated, nothing personal', async () => {
    const claims = await userinfo(as, key, accessToken)
    assert.deepEqual(claims, {
      sub: decodeJWT(accessToken).payload.sub,
      acr: '0',
      amr: ['anon', 'swk', 'pin'],
    })
  })

  it('answers POST as well', async () => {
    const proof = await createProof(key.keyPair, { htm: 'POST', htu: url, ath: accessTokenHash(accessToken) })
    const response = await call({ authorization: `DPoP ${accessToken}`, dpop: proof }, 'POST')
    assert.equal(response.status, 200, JSON.stringify(response.body))
  })

  it('refuses a DPoP-bound token sent as a Bearer token: 401 invalid_token with a DPoP challenge', async () => {
    const response = await oauth.userInfoRequest(as, demoClient, accessToken, insecure)
    const { challenges } = await rejectsWithOAuthError(
      oauth.processUserInfoResponse(as, demoClient, oauth.skipSubjectCheck, response),
      { error: 'invalid_token', status: 401 },
    )
    assert.equal(challenges?.[0]?.scheme, 'dpop')
    assert.equal(challenges?.[0]?.parameters.error, 'invalid_token')
    assert.ok(challenges?.[0]?.parameters.algs?.split(' ').includes('ES256'))
  })

  it('refuses the DPoP scheme without a proof: 401 invalid_dpop_proof', async () => {
    const response = await call({ authorization: `DPoP ${accessToken}` })
    assertOAuthError(response, 401, 'invalid_dpop_proof')
    assert.match(challenge(response), /^DPoP /)
  })

  it('refuses a proof with a wrong or missing ath', async () => {
    for (const ath of [accessTokenHash('another token'), undefined]) {
      const proof = await createProof(key.keyPair, { htm: 'GET', htu: url, ...(ath && { ath }) })
      const response = await call({ authorization: `DPoP ${accessToken}`, dpop: proof })
      assertOAuthError(response, 401, 'invalid_dpop_proof')
      assert.match(challenge(response), /error="invalid_dpop_proof"/)
    }
  })

  it('refuses a proof made with another key', async () => {
    const other = await createDeviceKey()
    const proof = await createProof(other.keyPair, {
      htm: 'GET',
      htu: url,
      ath: accessTokenHash(accessToken),
    })
    assertOAuthError(
      await call({ authorization: `DPoP ${accessToken}`, dpop: proof }),
      401,
      'invalid_dpop_proof',
    )
  })

  it('refuses a proof for another URL or method, and a replayed proof', async () => {
    const ath = accessTokenHash(accessToken)
    for (const claims of [
      { htm: 'GET', htu: `${server.issuer()}/token` },
      { htm: 'POST', htu: url },
    ]) {
      const proof = await createProof(key.keyPair, { ...claims, ath })
      assertOAuthError(
        await call({ authorization: `DPoP ${accessToken}`, dpop: proof }),
        401,
        'invalid_dpop_proof',
      )
    }
    const proof = await createProof(key.keyPair, { htm: 'GET', htu: url, ath })
    assert.equal((await call({ authorization: `DPoP ${accessToken}`, dpop: proof })).status, 200)
    assertOAuthError(
      await call({ authorization: `DPoP ${accessToken}`, dpop: proof }),
      401,
      'invalid_dpop_proof',
    )
  })

  it('challenges a request without a token, and refuses garbage tokens', async () => {
    const missing = await call({})
    assert.equal(missing.status, 401)
    assert.match(challenge(missing), /Bearer/)
    assert.match(challenge(missing), /DPoP/)
    for (const authorization of [
      'Bearer',
      'Bearer not-a-jwt',
      'DPoP a.b.c',
      'Basic Zm9vOmJhcg==',
      'Bearer a b',
    ]) {
      const response = await call({ authorization })
      assert.equal(response.status, 401, authorization)
      assert.equal((response.body as { error?: string }).error, 'invalid_token', authorization)
      assert.ok(challenge(response), authorization)
    }
  })

  it('refuses a token issued for another audience', async () => {
    const exchanged = await exchange(as, key, accessToken)
    const { body } = await rejectsWithOAuthError(userinfo(as, key, exchanged.access_token), {
      error: 'invalid_token',
      status: 401,
    })
    assert.match(String(body.error_description), /audience/)
  })

  it('refuses a token whose signature does not verify', async () => {
    const [head, payload] = accessToken.split('.')
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>
    const forged = `${head}.${Buffer.from(JSON.stringify({ ...claims, acr: '2' })).toString('base64url')}.${accessToken.split('.')[2]}`
    await rejectsWithOAuthError(userinfo(as, key, forged), { error: 'invalid_token', status: 401 })
  })

  it('answers a Bearer token that is not DPoP-bound', async () => {
    const created = await server.services.clients.create(demo.tenant, {
      clientId: 'bearer-backend',
      type: 'confidential',
      grantTypes: [GrantType.clientCredentials],
    })
    const client: oauth.Client = { client_id: 'bearer-backend' }
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      client,
      oauth.ClientSecretPost(created.clientSecret!),
      {},
      insecure,
    )
    const tokens = await oauth.processClientCredentialsResponse(as, client, response)
    assert.equal(tokens.token_type, 'bearer')
    assert.equal((await userinfo(as, undefined, tokens.access_token)).sub, 'bearer-backend')
    // And the DPoP scheme is wrong for it.
    const proof = await createProof(key.keyPair, {
      htm: 'GET',
      htu: url,
      ath: accessTokenHash(tokens.access_token),
    })
    assertOAuthError(
      await call({ authorization: `DPoP ${tokens.access_token}`, dpop: proof }),
      401,
      'invalid_token',
    )
  })
})
