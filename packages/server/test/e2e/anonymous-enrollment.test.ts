import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { GrantType } from '@onramp/protocol'
import * as oauth from 'oauth4webapi'
import { createProof } from '../support/dpop-proof.ts'
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
} from '../support/oauth-client.ts'
import { startTestServer, type TestServer } from '../support/server.ts'

/** Every claim an anonymous access token may carry (DESIGN §4): nothing personal. */
const allowedClaims = [
  'iss',
  'sub',
  'aud',
  'client_id',
  'scope',
  'iat',
  'exp',
  'jti',
  'acr',
  'amr',
  'sid',
  'cnf',
]

/** Rows that enrollment writes; a failed enrollment must leave each count as it was. */
async function enrollmentRows(server: TestServer): Promise<Record<string, number>> {
  const where = { tenantId: demo.tenant }
  return {
    profiles: await server.countRows('profiles', where),
    devices: await server.countRows('devices', where),
    grants: await server.countRows('grants', where),
    refreshTokens: await server.countRows('refresh_tokens', where),
  }
}

describe('anonymous enrollment', () => {
  let server: TestServer
  let as: oauth.AuthorizationServer

  before(async () => {
    server = await startTestServer()
    as = await discover(server.issuer())
  })
  after(() => server?.close())

  const modes = [
    { mode: 'no', amr: ['anon', 'swk'] },
    { mode: 'password', amr: ['anon', 'swk', 'pin'] },
    { mode: 'biometric', amr: ['anon', 'swk', 'user'] },
    { mode: 'biometric', hardwareKey: true, amr: ['anon', 'hwk', 'user'] },
    { mode: 'biometric', hardwareKey: false, amr: ['anon', 'swk', 'user'] },
    { mode: 'password', hardwareKey: true, amr: ['anon', 'swk', 'pin'] },
  ] as const

  for (const { mode, amr, ...rest } of modes) {
    const hardwareKey = 'hardwareKey' in rest ? rest.hardwareKey : undefined
    it(`mode ${mode}${hardwareKey === undefined ? '' : ` (hardware_key=${hardwareKey})`} → amr ${amr.join(',')}`, async () => {
      const key = await createDeviceKey()
      const tokens = await enroll(as, key, { mode, hardwareKey })
      assert.equal(tokens.token_type, 'dpop')
      assert.deepEqual(decodeJWT(tokens.access_token).payload.amr, amr)
      const device = await server.services.devices.get(demo.tenant, String(tokens.device_id))
      assert.equal(device.authenticationMode, mode)
      assert.equal(device.hardwareKey, hardwareKey === true)
    })
  }

  it('issues an RFC 9068 access token bound to the proof key, with no personal data', async () => {
    const key = await createDeviceKey()
    const tokens = await enroll(as, key)
    const { header, payload } = decodeJWT(tokens.access_token)
    assert.equal(header.typ, 'at+jwt')
    assert.equal(header.alg, 'ES256')
    assert.equal(payload.iss, server.issuer())
    assert.equal(payload.aud, server.issuer())
    assert.equal(payload.client_id, demo.client)
    assert.equal(payload.acr, '0')
    assert.deepEqual(payload.cnf, { jkt: key.jkt })
    assert.equal(payload.scope, 'attributes:read attributes:write')
    assert.equal(tokens.scope, 'attributes:read attributes:write')
    assert.equal(payload.exp, (payload.iat as number) + (tokens.expires_in as number))
    for (const claim of ['sub', 'jti', 'sid']) assert.equal(typeof payload[claim], 'string', claim)
    for (const claim of Object.keys(payload))
      assert.ok(allowedClaims.includes(claim), `unexpected claim ${claim}`)
  })

  it('creates a new subject, profile and device per enrollment, bound to the key', async () => {
    const key = await createDeviceKey()
    const first = await enroll(as, key)
    const second = await enroll(as, await createDeviceKey())
    const sub = decodeJWT(first.access_token).payload.sub
    assert.notEqual(sub, decodeJWT(second.access_token).payload.sub)
    assert.notEqual(first.device_id, second.device_id)
    assert.equal(typeof first.refresh_token, 'string')
    const device = await server.services.devices.get(demo.tenant, String(first.device_id))
    assert.equal(device.jkt, key.jkt)
    assert.equal(device.profileId, sub)
    assert.equal(device.clientId, demo.client)
    assert.ok((await server.countRows('profiles', { tenantId: demo.tenant })) >= 2)
  })

  it('answers on the wire with token_type "DPoP", no-store, and the device id', async () => {
    const key = await createDeviceKey()
    const url = `${server.issuer()}/token`
    const response = await postForm(
      url,
      { grant_type: GrantType.anonymous, client_id: demo.client, authentication_mode: 'no' },
      { dpop: await createProof(key.keyPair, { htm: 'POST', htu: url }) },
    )
    assert.equal(response.status, 200)
    const body = response.body as Record<string, unknown>
    assert.equal(body.token_type, 'DPoP')
    assert.equal(typeof body.device_id, 'string')
    assert.equal(typeof body.expires_in, 'number')
    assert.match(response.headers.get('cache-control') ?? '', /no-store/)
  })

  it('grants a requested subset of the client’s scopes', async () => {
    const tokens = await enroll(as, await createDeviceKey(), { scope: 'attributes:read' })
    assert.equal(tokens.scope, 'attributes:read')
    assert.equal(decodeJWT(tokens.access_token).payload.scope, 'attributes:read')
  })

  it('refuses enrollment without a DPoP proof, writing nothing', async () => {
    const before = await enrollmentRows(server)
    await rejectsWithOAuthError(enroll(as, await createDeviceKey(), { withoutProof: true }), {
      error: 'invalid_dpop_proof',
      status: 400,
    })
    assert.deepEqual(await enrollmentRows(server), before)
  })

  it('refuses a bad authentication_mode or hardware_key, writing nothing', async () => {
    const before = await enrollmentRows(server)
    const cases: Record<string, string>[] = [
      { authentication_mode: 'face' },
      { authentication_mode: '' },
      {},
      { authentication_mode: 'no', hardware_key: 'yes' },
    ]
    for (const parameters of cases) {
      const key = await createDeviceKey()
      const response = await oauth.genericTokenEndpointRequest(
        as,
        { client_id: demo.client },
        oauth.None(),
        GrantType.anonymous,
        parameters,
        { [oauth.allowInsecureRequests]: true, DPoP: key.dpop },
      )
      await rejectsWithOAuthError(
        oauth.processGenericTokenEndpointResponse(as, { client_id: demo.client }, response),
        {
          error: 'invalid_request',
          status: 400,
        },
      )
    }
    assert.deepEqual(await enrollmentRows(server), before)
  })

  it('refuses scopes the client may not have, writing nothing', async () => {
    const before = await enrollmentRows(server)
    await rejectsWithOAuthError(enroll(as, await createDeviceKey(), { scope: 'attributes:read admin' }), {
      error: 'invalid_scope',
      status: 400,
    })
    assert.deepEqual(await enrollmentRows(server), before)
  })

  it('refuses an unknown client with 401 invalid_client', async () => {
    await rejectsWithOAuthError(
      enroll(as, await createDeviceKey(), {
        client: { client_id: 'nobody', token_endpoint_auth_method: 'none' },
      }),
      { error: 'invalid_client', status: 401 },
    )
  })

  it('refuses a client that may not use the anonymous grant', async () => {
    await server.services.clients.create(demo.tenant, {
      clientId: 'web-login-only',
      type: 'public',
      grantTypes: [GrantType.authorizationCode],
    })
    const before = await enrollmentRows(server)
    await rejectsWithOAuthError(
      enroll(as, await createDeviceKey(), {
        client: { client_id: 'web-login-only', token_endpoint_auth_method: 'none' },
      }),
      { error: 'unauthorized_client', status: 400 },
    )
    assert.deepEqual(await enrollmentRows(server), before)
  })
})

describe('anonymous enrollment rate limits', () => {
  let server: TestServer
  let as: oauth.AuthorizationServer

  before(async () => {
    server = await startTestServer({
      env: {
        ONRAMP_ENROLLMENT_LIMIT_PER_IP: '2',
        ONRAMP_ENROLLMENT_LIMIT_PER_TENANT: '4',
        // One long window: the test cannot straddle two windows.
        ONRAMP_ENROLLMENT_LIMIT_WINDOW: '86400',
        ONRAMP_TRUST_PROXY: 'true',
      },
    })
    as = await discover(server.issuer())
  })
  after(() => server?.close())

  let first: { key: DeviceKey; refreshToken: string } | undefined

  const enrollFrom = async (ip: string) => {
    const key = await createDeviceKey()
    const url = `${server.issuer()}/token`
    const response = await postForm(
      url,
      { grant_type: GrantType.anonymous, client_id: demo.client, authentication_mode: 'no' },
      { dpop: await createProof(key.keyPair, { htm: 'POST', htu: url }), 'x-forwarded-for': ip },
    )
    if (response.status === 200)
      first ??= { key, refreshToken: (response.body as { refresh_token: string }).refresh_token }
    return response
  }

  it('answers 429 per client IP, then per tenant, with Retry-After and nothing written', async () => {
    assert.equal((await enrollFrom('192.0.2.1')).status, 200)
    assert.equal((await enrollFrom('192.0.2.1')).status, 200)
    assert.equal(await server.countRows('devices', { tenantId: demo.tenant }), 2)

    const perIP = await enrollFrom('192.0.2.1')
    assertOAuthError(perIP, 429, 'temporarily_unavailable')
    const retryAfter = Number(perIP.headers.get('retry-after'))
    assert.ok(
      Number.isInteger(retryAfter) && retryAfter > 0 && retryAfter <= 86400,
      `Retry-After ${retryAfter}`,
    )

    assert.equal((await enrollFrom('192.0.2.2')).status, 200)
    assertOAuthError(await enrollFrom('192.0.2.3'), 429, 'temporarily_unavailable')
    assert.equal(await server.countRows('devices', { tenantId: demo.tenant }), 3)
    assert.equal(await server.countRows('profiles', { tenantId: demo.tenant }), 3)
    assert.equal(await server.countRows('grants', { tenantId: demo.tenant }), 3)
  })

  it('is reported to the strict client as an OAuth error', async () => {
    await rejectsWithOAuthError(enroll(as, await createDeviceKey()), {
      error: 'temporarily_unavailable',
      status: 429,
    })
  })

  it('limits enrollment only: an enrolled device still refreshes', async () => {
    assert.ok(first)
    const tokens = await refresh(as, first.key, first.refreshToken)
    assert.equal(tokens.token_type, 'dpop')
  })

  it('counts per tenant: another tenant still enrolls', async () => {
    await server.services.tenants.create({ id: 'fresh' })
    await server.services.clients.create('fresh', { clientId: demo.client, type: 'public' })
    const tokens = await enroll(await discover(server.issuer('fresh')), await createDeviceKey())
    assert.equal(typeof tokens.refresh_token, 'string')
  })
})
