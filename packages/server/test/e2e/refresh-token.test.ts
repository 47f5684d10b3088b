import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type * as oauth from 'oauth4webapi'
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

describe('refresh token grant', () => {
  let server: TestServer
  let as: oauth.AuthorizationServer

  before(async () => {
    server = await startTestServer()
    as = await discover(server.issuer())
  })
  after(() => server?.close())

  async function enrolled(): Promise<{ key: DeviceKey; tokens: oauth.TokenEndpointResponse }> {
    const key = await createDeviceKey()
    return { key, tokens: await enroll(as, key) }
  }

  it('rotates the refresh token and issues a new access token of the same family and key', async () => {
    const { key, tokens } = await enrolled()
    const next = await refresh(as, key, tokens.refresh_token!)
    assert.equal(next.token_type, 'dpop')
    assert.equal(typeof next.refresh_token, 'string')
    assert.notEqual(next.refresh_token, tokens.refresh_token)
    assert.notEqual(next.access_token, tokens.access_token)
    const before = decodeJWT(tokens.access_token).payload
    const after = decodeJWT(next.access_token).payload
    for (const claim of ['sub', 'sid', 'acr', 'amr', 'cnf', 'scope', 'client_id']) {
      assert.deepEqual(after[claim], before[claim], claim)
    }
    assert.deepEqual(after.cnf, { jkt: key.jkt })
    assert.equal(next.scope, tokens.scope)
    // The rotated chain goes on.
    const third = await refresh(as, key, next.refresh_token!)
    assert.equal(decodeJWT(third.access_token).payload.sid, before.sid)
  })

  it('revokes the whole family when a rotated refresh token is used again', async () => {
    const { key, tokens } = await enrolled()
    const next = await refresh(as, key, tokens.refresh_token!)
    await rejectsWithOAuthError(refresh(as, key, tokens.refresh_token!), {
      error: 'invalid_grant',
      status: 400,
    })
    // The newest token of the family is dead too, and so are its access tokens.
    await rejectsWithOAuthError(refresh(as, key, next.refresh_token!), {
      error: 'invalid_grant',
      status: 400,
    })
    const { challenges } = await rejectsWithOAuthError(userinfo(as, key, next.access_token), {
      error: 'invalid_token',
      status: 401,
    })
    assert.equal(challenges?.[0]?.parameters.error, 'invalid_token')
    const grant = await server.services.store.grants.get(
      demo.tenant,
      String(decodeJWT(next.access_token).payload.sid),
    )
    assert.equal(grant?.revokedReason, 'refresh_token_reuse')
  })

  it('lets only one of two concurrent refreshes with the same token win, and revokes the family', async () => {
    const { key, tokens } = await enrolled()
    const results = await Promise.allSettled([
      refresh(as, key, tokens.refresh_token!),
      refresh(as, key, tokens.refresh_token!),
    ])
    const won = results.filter((r) => r.status === 'fulfilled')
    assert.equal(won.length, 1, JSON.stringify(results.map((r) => r.status)))
    const lost = results.find((r) => r.status === 'rejected')
    await rejectsWithOAuthError(Promise.reject(lost?.reason), { error: 'invalid_grant', status: 400 })
    const winner = (won[0] as PromiseFulfilledResult<oauth.TokenEndpointResponse>).value
    await rejectsWithOAuthError(refresh(as, key, winner.refresh_token!), {
      error: 'invalid_grant',
      status: 400,
    })
  })

  it('refuses a proof made with another key, and leaves the token usable by its key', async () => {
    const { key, tokens } = await enrolled()
    const thief = await createDeviceKey()
    await rejectsWithOAuthError(refresh(as, thief, tokens.refresh_token!), {
      error: 'invalid_grant',
      status: 400,
    })
    const next = await refresh(as, key, tokens.refresh_token!)
    assert.deepEqual(decodeJWT(next.access_token).payload.cnf, { jkt: key.jkt })
  })

  it('refuses a DPoP-bound refresh token without a proof, and leaves it usable', async () => {
    const { key, tokens } = await enrolled()
    const { body } = await rejectsWithOAuthError(refresh(as, key, tokens.refresh_token!, { dpop: null }), {
      error: 'invalid_grant',
      status: 400,
    })
    assert.match(String(body.error_description), /DPoP/)
    await refresh(as, key, tokens.refresh_token!)
  })

  it('down-scopes the access token on request; the grant keeps its scope', async () => {
    const { key, tokens } = await enrolled()
    const narrow = await refresh(as, key, tokens.refresh_token!, { scope: 'attributes:read' })
    assert.equal(narrow.scope, 'attributes:read')
    assert.equal(decodeJWT(narrow.access_token).payload.scope, 'attributes:read')
    const full = await refresh(as, key, narrow.refresh_token!)
    assert.equal(full.scope, 'attributes:read attributes:write')
  })

  it('refuses a scope beyond the grant without using up the token', async () => {
    const { key, tokens } = await enrolled()
    await rejectsWithOAuthError(
      refresh(as, key, tokens.refresh_token!, { scope: 'attributes:read demo:write' }),
      {
        error: 'invalid_scope',
        status: 400,
      },
    )
    await rejectsWithOAuthError(refresh(as, key, tokens.refresh_token!, { scope: 'bad"scope' }), {
      error: 'invalid_scope',
      status: 400,
    })
    await refresh(as, key, tokens.refresh_token!)
  })

  it('refuses unknown refresh tokens', async () => {
    const key = await createDeviceKey()
    for (const token of ['nope', 'A'.repeat(43), 'x'.repeat(8000)]) {
      await rejectsWithOAuthError(refresh(as, key, token), { error: 'invalid_grant', status: 400 })
    }
  })

  it('refuses a refresh token issued to another client, and leaves it usable', async () => {
    await server.services.clients.create(demo.tenant, { clientId: 'other-app', type: 'public' })
    const { key, tokens } = await enrolled()
    await rejectsWithOAuthError(
      refresh(as, key, tokens.refresh_token!, {
        client: { client_id: 'other-app', token_endpoint_auth_method: 'none' },
      }),
      { error: 'invalid_grant', status: 400 },
    )
    await refresh(as, key, tokens.refresh_token!)
  })

  it('expires a refresh token left idle past the tenant’s idle lifetime', async () => {
    await server.services.tenants.create({
      id: 'idle',
      settings: { refreshTokenIdleTtl: 1, refreshTokenAbsoluteTtl: 3600 },
    })
    await server.services.clients.create('idle', { clientId: demo.client, type: 'public' })
    const idle = await discover(server.issuer('idle'))
    const key = await createDeviceKey()
    const tokens = await enroll(idle, key)
    await sleep(1100)
    const { body } = await rejectsWithOAuthError(refresh(idle, key, tokens.refresh_token!), {
      error: 'invalid_grant',
      status: 400,
    })
    assert.match(String(body.error_description), /expired/)
  })
})
