import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { GrantType, TokenType } from '@onramp/protocol'
import * as oauth from 'oauth4webapi'
import { createProof } from '../support/dpop-proof.ts'
import { assertOAuthError, postForm, type RawResponse, send } from '../support/http.ts'
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
import {
  createTestDatabase,
  postgresUnreachable,
  skipUnlessPostgres,
  type TestDatabase,
} from '../support/postgres.ts'
import { redisUnreachable, skipUnlessRedis, testRedisUrl } from '../support/redis.ts'
import { startTestServer, type TestServer } from '../support/server.ts'

const masterKey = (): string => randomBytes(32).toString('hex')
const skipPostgres = await skipUnlessPostgres()
const skipRedis = skipPostgres || (await skipUnlessRedis())

// Skips with the reason when PostgreSQL is down, except in CI, where the tests run and fail.
describe('on PostgreSQL', { skip: skipPostgres }, () => {
  it('is reachable', async () => {
    assert.equal(await postgresUnreachable(), undefined)
  })

  describe('one node', () => {
    let database: TestDatabase
    let server: TestServer
    let as: oauth.AuthorizationServer

    before(async () => {
      database = await createTestDatabase({ prefix: 'onramp_e2e' })
      server = await startTestServer({
        env: { ONRAMP_DATABASE_URL: database.url, ONRAMP_MASTER_KEY: masterKey() },
      })
      as = await discover(server.issuer())
    })
    after(async () => {
      await server?.close()
      await database?.drop()
    })

    it('runs the core flow: enroll → refresh → reuse detection → exchange → revoke', async () => {
      const key = await createDeviceKey()
      const enrolled = await enroll(as, key, { mode: 'biometric', hardwareKey: true })
      assert.deepEqual(decodeJWT(enrolled.access_token).payload.amr, ['anon', 'hwk', 'user'])
      const device = await server.services.devices.get(demo.tenant, String(enrolled.device_id))
      assert.equal(device.jkt, key.jkt)

      const rotated = await refresh(as, key, enrolled.refresh_token!)
      await rejectsWithOAuthError(refresh(as, key, enrolled.refresh_token!), {
        error: 'invalid_grant',
        status: 400,
      })
      await rejectsWithOAuthError(refresh(as, key, rotated.refresh_token!), {
        error: 'invalid_grant',
        status: 400,
      })
      await rejectsWithOAuthError(userinfo(as, key, rotated.access_token), {
        error: 'invalid_token',
        status: 401,
      })

      const second = await createDeviceKey()
      const tokens = await enroll(as, second)
      const exchanged = await exchange(as, second, tokens.access_token, { scope: 'demo:read' })
      assert.equal(decodeJWT(exchanged.access_token).payload.aud, demo.resource)
      assert.deepEqual(decodeJWT(exchanged.access_token).payload.cnf, { jkt: second.jkt })

      await oauth.processRevocationResponse(
        await oauth.revocationRequest(as, demoClient, oauth.None(), tokens.refresh_token!, insecure),
      )
      await rejectsWithOAuthError(refresh(as, second, tokens.refresh_token!), {
        error: 'invalid_grant',
        status: 400,
      })
      await rejectsWithOAuthError(exchange(as, second, tokens.access_token), {
        error: 'invalid_grant',
        status: 400,
      })
    })

    it('lets only one of two concurrent refreshes win, and revokes the family', async () => {
      const key = await createDeviceKey()
      const tokens = await enroll(as, key)
      const results = await Promise.allSettled([
        refresh(as, key, tokens.refresh_token!),
        refresh(as, key, tokens.refresh_token!),
      ])
      const won = results.filter(
        (r): r is PromiseFulfilledResult<oauth.TokenEndpointResponse> => r.status === 'fulfilled',
      )
      assert.equal(won.length, 1)
      await rejectsWithOAuthError(refresh(as, key, won[0]!.value.refresh_token!), {
        error: 'invalid_grant',
        status: 400,
      })
    })

    it('writes nothing for a refused enrollment', async () => {
      const where = { tenantId: demo.tenant }
      const devices = await server.countRows('devices', where)
      const profiles = await server.countRows('profiles', where)
      await rejectsWithOAuthError(enroll(as, await createDeviceKey(), { scope: 'not-allowed' }), {
        error: 'invalid_scope',
        status: 400,
      })
      await rejectsWithOAuthError(enroll(as, await createDeviceKey(), { withoutProof: true }), {
        error: 'invalid_dpop_proof',
        status: 400,
      })
      assert.equal(await server.countRows('devices', where), devices)
      assert.equal(await server.countRows('profiles', where), profiles)
    })

    it('answers strings PostgreSQL cannot store (NUL bytes) as unknown, not with a server error', async () => {
      const tokenURL = `${server.issuer()}/token`
      for (const clientId of ['demo\u0000app', '\u0000']) {
        const response = await postForm(tokenURL, {
          grant_type: 'refresh_token',
          client_id: clientId,
          refresh_token: 'x',
        })
        assertOAuthError(response, 401, 'invalid_client')
        const basic = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:secret`).toString('base64')}`
        assertOAuthError(
          await postForm(tokenURL, { grant_type: 'client_credentials' }, { authorization: basic }),
          401,
          'invalid_client',
        )
      }
      const key = await createDeviceKey()
      const subject = await enroll(as, key)
      const response = await postForm(
        tokenURL,
        {
          grant_type: GrantType.tokenExchange,
          client_id: demo.client,
          subject_token: subject.access_token,
          subject_token_type: TokenType.accessToken,
          audience: 'demo\u0000api',
        },
        { dpop: await createProof(key.keyPair, { htm: 'POST', htu: tokenURL }) },
      )
      assertOAuthError(response, 400, 'invalid_target')
      const appConfig = await send(`${server.issuer()}/app-config?app_name=demo%00app&app_version=1.0.0`)
      assert.equal(appConfig.status, 404, JSON.stringify(appConfig.body))
      // Found by the fuzz test: CORS looked up a tenant's origins before the route refused its name,
      // and the admin lists took any profile id.
      const cors = await send(`${server.url}/t/demo%00/jwks`, { headers: { origin: 'https://app.example' } })
      assertOAuthError(cors, 400, 'invalid_request')
      for (const list of ['devices', 'apple/enrollments']) {
        const response = await send(`${server.url}/admin/v1/tenants/demo/${list}?profile_id=%00`, {
          headers: { authorization: `Bearer ${server.adminToken}` },
        })
        assert.equal(response.status, 400, JSON.stringify(response.body))
        assert.equal((response.body as { error?: string }).error, 'invalid_input')
      }
    })
  })

  describe('a cluster of two nodes sharing PostgreSQL and Redis', { skip: skipRedis }, () => {
    let database: TestDatabase
    let nodeA: TestServer
    let nodeB: TestServer
    let as: oauth.AuthorizationServer
    // Redis outlives the test database: tenant names new each run keep the runs' counters apart.
    const run = randomBytes(4).toString('hex')
    const tenant = `cluster-${run}`
    const limited = `limited-${run}`
    const enrollmentLimit = 5

    before(async () => {
      // Fail here, before any node starts, when Redis is down (in CI): nodes would wait on it.
      const unreachable = await redisUnreachable()
      if (unreachable) throw new Error(unreachable)
      database = await createTestDatabase({ prefix: 'onramp_e2e' })
      const env = {
        ONRAMP_DATABASE_URL: database.url,
        ONRAMP_MASTER_KEY: masterKey(),
        ONRAMP_REDIS_URL: testRedisUrl,
        ONRAMP_ENROLLMENT_LIMIT_PER_IP: String(enrollmentLimit),
        // Fixed windows: a long one, so that the rate-limit test cannot straddle two.
        ONRAMP_ENROLLMENT_LIMIT_WINDOW: '3600',
      }
      nodeA = await startTestServer({ env })
      // Both nodes sit behind one public URL, as behind a load balancer: that of node A.
      nodeB = await startTestServer({ env: { ...env, ONRAMP_PUBLIC_URL: nodeA.url } })
      const { tenants, clients, resources } = nodeA.services
      for (const id of [tenant, limited]) {
        await tenants.create({ id })
        await clients.create(id, { clientId: demo.client, type: 'public' })
      }
      await resources.create(tenant, {
        audience: demo.resource,
        scopes: ['demo:read'],
        policy: { allowedClients: [demo.client], allowAnonymous: true },
      })
      as = await discover(nodeA.issuer(tenant))
    })
    after(async () => {
      await nodeB?.close()
      await nodeA?.close()
      await database?.drop()
    })

    /** A request to one node's token endpoint; proofs name the cluster's public URL. */
    async function postTo(
      node: TestServer,
      key: DeviceKey,
      params: Record<string, string>,
      options: { tenant?: string; proof?: string } = {},
    ): Promise<RawResponse> {
      const id = options.tenant ?? tenant
      const dpop =
        options.proof ?? (await createProof(key.keyPair, { htm: 'POST', htu: `${nodeA.issuer(id)}/token` }))
      return postForm(`${node.url}/t/${id}/token`, params, { dpop })
    }

    const enrollment = { grant_type: GrantType.anonymous, client_id: demo.client, authentication_mode: 'no' }

    it('refuses at node B a DPoP proof already used at node A', async () => {
      const key = await createDeviceKey()
      const proof = await createProof(key.keyPair, { htm: 'POST', htu: `${nodeA.issuer(tenant)}/token` })
      const first = await postTo(nodeA, key, enrollment, { proof })
      assert.equal(first.status, 200, JSON.stringify(first.body))
      const replay = await postTo(nodeB, key, enrollment, { proof })
      assertOAuthError(replay, 400, 'invalid_dpop_proof')
      assert.match(String((replay.body as { error_description: string }).error_description), /used before/)
      // A fresh proof is fine at node B: the refusal was the replay, not the node.
      const fresh = await postTo(nodeB, key, enrollment)
      assert.equal(fresh.status, 200, JSON.stringify(fresh.body))
    })

    it('refuses at node B a refresh token already rotated at node A, and revokes its family', async () => {
      const key = await createDeviceKey()
      const tokens = await enroll(as, key)
      const rotated = await refresh(as, key, tokens.refresh_token!)
      const refreshAt = (node: TestServer, refreshToken: string): Promise<RawResponse> =>
        postTo(node, key, {
          grant_type: 'refresh_token',
          client_id: demo.client,
          refresh_token: refreshToken,
        })
      assertOAuthError(await refreshAt(nodeB, tokens.refresh_token!), 400, 'invalid_grant')
      assertOAuthError(await refreshAt(nodeB, rotated.refresh_token!), 400, 'invalid_grant')
      assertOAuthError(await refreshAt(nodeA, rotated.refresh_token!), 400, 'invalid_grant')
    })

    it('accepts at node B the tokens node A issued (shared keys)', async () => {
      const key = await createDeviceKey()
      const tokens = await enroll(as, key)
      const response = await postTo(nodeB, key, {
        grant_type: GrantType.tokenExchange,
        client_id: demo.client,
        subject_token: tokens.access_token,
        subject_token_type: TokenType.accessToken,
        audience: demo.resource,
      })
      assert.equal(response.status, 200, JSON.stringify(response.body))
      assert.equal(
        decodeJWT((response.body as { access_token: string }).access_token).payload.iss,
        nodeA.issuer(tenant),
      )
    })

    it('shares enrollment rate limits between the nodes', async () => {
      const key = await createDeviceKey()
      for (let i = 0; i < enrollmentLimit; i++) {
        const response = await postTo(i % 2 === 0 ? nodeA : nodeB, key, enrollment, { tenant: limited })
        assert.equal(response.status, 200, `enrollment ${i + 1}: ${JSON.stringify(response.body)}`)
      }
      assertOAuthError(
        await postTo(nodeB, key, enrollment, { tenant: limited }),
        429,
        'temporarily_unavailable',
      )
      assertOAuthError(
        await postTo(nodeA, key, enrollment, { tenant: limited }),
        429,
        'temporarily_unavailable',
      )
    })
  })
})
