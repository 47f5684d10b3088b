import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { GrantType } from '@onramp/protocol'
import type { Kysely } from 'kysely'
import * as oauth from 'oauth4webapi'
import { openDatabase, sqlitePathIn } from '../../src/store/connect.ts'
import type { Database } from '../../src/store/database.ts'
import { accessTokenHash, createProof } from '../support/dpop-proof.ts'
import { assertOAuthError, type RawResponse, send } from '../support/http.ts'
import {
  createDeviceKey,
  type DeviceKey,
  decodeJWT,
  demo,
  discover,
  enroll,
  exchange,
  insecure,
  refresh,
  rejectsWithOAuthError,
} from '../support/oauth-client.ts'
import { startTestServer, type TestServer } from '../support/server.ts'

/** An enrolled device: its key, its tokens and its profile (`sub`). */
interface Subject {
  key: DeviceKey
  accessToken: string
  refreshToken: string
  profileId: string
}

interface CallOptions {
  /** The JSON text to PUT; sent as `application/json` unless `headers` say otherwise. */
  body?: string
  headers?: Record<string, string>
  /** `false`: no DPoP proof; an object: replaces claims of the proof. */
  proof?: false | Record<string, unknown>
  /** Another tenant than `demo`. */
  tenant?: string
}

describe('profile attributes and DELETE /profile', () => {
  let server: TestServer
  let as: oauth.AuthorizationServer
  let db: Kysely<Database>
  let subject: Subject

  async function enrollSubject(
    options: { scope?: string; as?: oauth.AuthorizationServer } = {},
  ): Promise<Subject> {
    const key = await createDeviceKey()
    const tokens = await enroll(options.as ?? as, key, {
      ...(options.scope !== undefined && { scope: options.scope }),
    })
    return {
      key,
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token!,
      profileId: String(decodeJWT(tokens.access_token).payload.sub),
    }
  }

  /** A request to the profile API with the subject's DPoP-bound token and a proof for the exact URL. */
  async function call(
    who: Subject,
    method: string,
    path: string,
    options: CallOptions = {},
  ): Promise<RawResponse> {
    const url = `${server.issuer(options.tenant)}${path}`
    const headers: Record<string, string> = {
      authorization: `DPoP ${who.accessToken}`,
      ...(options.body !== undefined && { 'content-type': 'application/json' }),
      ...options.headers,
    }
    if (options.proof !== false) {
      headers.dpop = await createProof(who.key.keyPair, {
        htm: method,
        htu: url,
        ath: accessTokenHash(who.accessToken),
        ...options.proof,
      })
    }
    return send(url, { method, headers, ...(options.body !== undefined && { body: options.body }) })
  }

  function put(who: Subject, name: string, json: string, options: CallOptions = {}): Promise<RawResponse> {
    return call(who, 'PUT', `/profile/attributes/${name}`, { ...options, body: json })
  }

  /** A JSON 4xx of this API: status, `error` code and a description. */
  function assertError(response: RawResponse, status: number, error: string): void {
    assertOAuthError(response, status, error)
  }

  before(async () => {
    server = await startTestServer()
    as = await discover(server.issuer())
    db = openDatabase({ sqlitePath: sqlitePathIn(server.runtime.config.dataDir) }).db
    subject = await enrollSubject()
  })
  after(async () => {
    await db?.destroy()
    await server?.close()
  })

  it('starts empty: GET /profile/attributes is {}', async () => {
    const fresh = await enrollSubject()
    const response = await call(fresh, 'GET', '/profile/attributes')
    assert.equal(response.status, 200)
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/)
    assert.equal(response.headers.get('cache-control'), 'no-store')
    assert.deepEqual(response.body, {})
  })

  it('stores JSON values of every type and serves each as it was sent, and all as one object', async () => {
    const values: Record<string, unknown> = {
      string: 'hello',
      empty_string: '',
      unicode: 'Grüße, 世界 🚀 \u0000 "quoted" \\',
      integer: 42,
      negative: -7,
      float: 3.25,
      big: 1e300,
      true: true,
      false: false,
      null: null,
      array: [1, 'two', null, [3], { four: 4 }],
      empty_array: [],
      object: { nested: { deeper: ['x'] }, n: 1 },
      empty_object: {},
      'dotted.name-with_dash': 'ok',
    }
    for (const [name, value] of Object.entries(values)) {
      const response = await put(subject, name, JSON.stringify(value))
      assert.equal(response.status, 201, `${name}: ${JSON.stringify(response.body)}`)
      assert.match(response.headers.get('etag') ?? '', /^"[A-Za-z0-9_-]+"$/)
    }
    for (const [name, value] of Object.entries(values)) {
      const response = await call(subject, 'GET', `/profile/attributes/${name}`)
      assert.equal(response.status, 200, name)
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/)
      assert.match(response.headers.get('etag') ?? '', /^"[A-Za-z0-9_-]+"$/)
      assert.deepEqual(response.body, value, name)
    }
    const all = await call(subject, 'GET', '/profile/attributes')
    assert.equal(all.status, 200)
    assert.deepEqual(all.body, values)
  })

  it('compacts the JSON it stores, and PUT of an existing attribute replaces it: 204 with a new ETag', async () => {
    const created = await put(subject, 'cart', '{ "items" : [ 1, 2 ] }')
    assert.equal(created.status, 201)
    const replaced = await put(subject, 'cart', '{"items":[1,2,3]}')
    assert.equal(replaced.status, 204)
    assert.notEqual(replaced.headers.get('etag'), created.headers.get('etag'))
    const got = await call(subject, 'GET', '/profile/attributes/cart')
    assert.deepEqual(got.body, { items: [1, 2, 3] })
    assert.equal(got.headers.get('etag'), replaced.headers.get('etag'))
    // The same value has the same version.
    const again = await put(subject, 'cart', '{"items": [1, 2, 3]}')
    assert.equal(again.headers.get('etag'), replaced.headers.get('etag'))
  })

  it('honours If-Match and If-None-Match on PUT and DELETE: 412 precondition_failed, nothing changed', async () => {
    const first = await put(subject, 'counter', '1')
    const etag = first.headers.get('etag')!

    assertError(
      await put(subject, 'counter', '2', { headers: { 'if-match': '"stale"' } }),
      412,
      'precondition_failed',
    )
    // If-Match compares strongly: a weak tag never matches.
    assertError(
      await put(subject, 'counter', '2', { headers: { 'if-match': `W/${etag}` } }),
      412,
      'precondition_failed',
    )
    assertError(
      await put(subject, 'counter', '2', { headers: { 'if-none-match': '*' } }),
      412,
      'precondition_failed',
    )
    assert.equal((await call(subject, 'GET', '/profile/attributes/counter')).body, 1)

    const second = await put(subject, 'counter', '2', { headers: { 'if-match': `"other", ${etag}` } })
    assert.equal(second.status, 204)
    assertError(
      await put(subject, 'counter', '3', { headers: { 'if-match': etag } }),
      412,
      'precondition_failed',
    )

    assertError(
      await put(subject, 'absent', '1', { headers: { 'if-match': '*' } }),
      412,
      'precondition_failed',
    )
    assert.equal((await put(subject, 'absent', '1', { headers: { 'if-none-match': '*' } })).status, 201)

    const deleteStale = await call(subject, 'DELETE', '/profile/attributes/counter', {
      headers: { 'if-match': etag },
    })
    assertError(deleteStale, 412, 'precondition_failed')
    const deleted = await call(subject, 'DELETE', '/profile/attributes/counter', {
      headers: { 'if-match': second.headers.get('etag')! },
    })
    assert.equal(deleted.status, 204)
  })

  it('deletes one attribute: 204, then 404 not_found for it', async () => {
    assert.equal((await put(subject, 'doomed', '"x"')).status, 201)
    const deleted = await call(subject, 'DELETE', '/profile/attributes/doomed')
    assert.equal(deleted.status, 204)
    assert.equal(deleted.body, '')
    assertError(await call(subject, 'GET', '/profile/attributes/doomed'), 404, 'not_found')
    assertError(await call(subject, 'DELETE', '/profile/attributes/doomed'), 404, 'not_found')
    assertError(await call(subject, 'GET', '/profile/attributes/never-set'), 404, 'not_found')
    const all = (await call(subject, 'GET', '/profile/attributes')).body as Record<string, unknown>
    assert.equal('doomed' in all, false)
  })

  it('refuses bad names, bad bodies and oversized values with JSON 4xx errors, and writes nothing', async () => {
    const fresh = await enrollSubject()
    for (const name of ['with%20space', 'sl%2Fash', 'ü', 'x'.repeat(65), 'x'.repeat(300), '']) {
      assertError(await put(fresh, name, '1'), 400, 'invalid_input')
      assertError(await call(fresh, 'GET', `/profile/attributes/${name}`), 400, 'invalid_input')
    }
    assert.equal((await put(fresh, 'x'.repeat(64), '1')).status, 201)

    assertError(await put(fresh, 'bad', '{"unclosed": '), 400, 'invalid_input')
    assertError(await put(fresh, 'bad', ''), 400, 'invalid_input')
    assertError(await put(fresh, 'bad', '1e400'), 400, 'invalid_input')
    assertError(await put(fresh, 'bad', `${'['.repeat(33)}${']'.repeat(33)}`), 400, 'invalid_input')
    assertError(await put(fresh, 'bad', `${'['.repeat(20_000)}${']'.repeat(20_000)}`), 400, 'invalid_input')
    assert.equal((await put(fresh, 'deep', `${'['.repeat(32)}${']'.repeat(32)}`)).status, 201)
    assertError(
      await put(fresh, 'bad', '"text"', { headers: { 'content-type': 'text/plain' } }),
      415,
      'unsupported_media_type',
    )
    assertError(
      await put(fresh, 'bad', 'a=1', { headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
      415,
      'unsupported_media_type',
    )

    // 16 KiB of JSON is the most one value may take: a string of 16382 characters and its quotes.
    assert.equal((await put(fresh, 'largest', JSON.stringify('x'.repeat(16_382)))).status, 201)
    const tooLarge = await put(fresh, 'bad', JSON.stringify('x'.repeat(16_383)))
    assertError(tooLarge, 413, 'payload_too_large')
    assert.match(String((tooLarge.body as { error_description: string }).error_description), /16384/)
    // Multi-byte characters count as their UTF-8 bytes.
    assertError(await put(fresh, 'bad', JSON.stringify('é'.repeat(8_200))), 413, 'payload_too_large')
    // Larger than the server's body limit: refused before parsing, in the same form.
    assertError(await put(fresh, 'bad', JSON.stringify('x'.repeat(70_000))), 413, 'payload_too_large')

    const all = (await call(fresh, 'GET', '/profile/attributes')).body as Record<string, unknown>
    assert.deepEqual(Object.keys(all).sort(), ['deep', 'largest', 'x'.repeat(64)])
  })

  it('limits a profile to 100 attributes: the 101st is 409 conflict, replacing one still works', async () => {
    const fresh = await enrollSubject()
    for (let i = 0; i < 100; i++) assert.equal((await put(fresh, `a${i}`, String(i))).status, 201)
    const refused = await put(fresh, 'one-more', 'true')
    assertError(refused, 409, 'conflict')
    assert.match(String((refused.body as { error_description: string }).error_description), /100 attributes/)
    assert.equal((await put(fresh, 'a7', '"replaced"')).status, 204)
    assert.equal((await call(fresh, 'DELETE', '/profile/attributes/a0')).status, 204)
    assert.equal((await put(fresh, 'one-more', 'true')).status, 201)
    assert.equal(Object.keys((await call(fresh, 'GET', '/profile/attributes')).body as object).length, 100)
  })

  it('limits the values of a profile to 256 KiB together: 409 conflict beyond', async () => {
    const fresh = await enrollSubject()
    const largest = JSON.stringify('x'.repeat(16_382))
    for (let i = 0; i < 16; i++) assert.equal((await put(fresh, `big${i}`, largest)).status, 201)
    assertError(await put(fresh, 'small', '1'), 409, 'conflict')
    // Replacing a value counts the new size instead of the old one.
    assert.equal((await put(fresh, 'big3', JSON.stringify('y'.repeat(16_382)))).status, 204)
    assert.equal((await put(fresh, 'big4', '1')).status, 204)
    assert.equal((await put(fresh, 'small', '1')).status, 201)
  })

  it('holds a tenant to its own attribute_quota', async () => {
    await server.services.tenants.create({
      id: 'small-quota',
      settings: { attributeQuota: { maxValueBytes: 8, maxCount: 2, maxTotalBytes: 12 } },
    })
    await server.services.clients.create('small-quota', {
      clientId: demo.client,
      type: 'public',
      scopes: ['attributes:read', 'attributes:write'],
    })
    const small = await enrollSubject({ as: await discover(server.issuer('small-quota')) })
    const tenant = { tenant: 'small-quota' }
    assertError(await put(small, 'long', '"123456789"', tenant), 413, 'payload_too_large')
    assert.equal((await put(small, 'a', '"123456"', tenant)).status, 201)
    assertError(await put(small, 'b', '"123456"', tenant), 409, 'conflict')
    assert.equal((await put(small, 'b', '12', tenant)).status, 201)
    const third = await put(small, 'c', '1', tenant)
    assertError(third, 409, 'conflict')
    assert.match(String((third.body as { error_description: string }).error_description), /2 attributes/)
    // The demo tenant keeps its defaults.
    assert.equal((await put(subject, 'long', '"123456789"')).status, 201)
  })

  it('needs attributes:read to read and attributes:write to write: 403 insufficient_scope', async () => {
    const reader = await enrollSubject({ scope: 'attributes:read' })
    assert.equal((await call(reader, 'GET', '/profile/attributes')).status, 200)
    for (const response of [
      await put(reader, 'x', '1'),
      await call(reader, 'DELETE', '/profile/attributes/x'),
    ]) {
      assertError(response, 403, 'insufficient_scope')
      assert.match(response.headers.get('www-authenticate') ?? '', /^DPoP .*error="insufficient_scope"/)
    }
    const writer = await enrollSubject({ scope: 'attributes:write' })
    assert.equal((await put(writer, 'x', '1')).status, 201)
    for (const path of ['/profile/attributes', '/profile/attributes/x'])
      assertError(await call(writer, 'GET', path), 403, 'insufficient_scope')
  })

  it('needs a DPoP proof for the exact request with a bound token: 401 otherwise', async () => {
    const path = '/profile/attributes/proof'
    const noProof = await put(subject, 'proof', '1', { proof: false })
    assertError(noProof, 401, 'invalid_dpop_proof')
    assert.match(noProof.headers.get('www-authenticate') ?? '', /^DPoP /)
    for (const proof of [
      { ath: accessTokenHash('another token') },
      { ath: undefined },
      { htm: 'GET' },
      { htu: `${server.issuer()}/profile/attributes/other` },
      { htu: `${server.issuer()}/profile/attributes` },
    ]) {
      assertError(await call(subject, 'PUT', path, { body: '1', proof }), 401, 'invalid_dpop_proof')
    }
    // A proof by another key.
    const other = await createDeviceKey()
    const foreign = await createProof(other.keyPair, {
      htm: 'GET',
      htu: `${server.issuer()}${path}`,
      ath: accessTokenHash(subject.accessToken),
    })
    const response = await send(`${server.issuer()}${path}`, {
      headers: { authorization: `DPoP ${subject.accessToken}`, dpop: foreign },
    })
    assertError(response, 401, 'invalid_dpop_proof')
    // The bound token as a bearer token.
    const bearer = await send(`${server.issuer()}/profile/attributes`, {
      headers: { authorization: `Bearer ${subject.accessToken}` },
    })
    assertError(bearer, 401, 'invalid_token')
    const anonymous = await send(`${server.issuer()}/profile/attributes`)
    assert.equal(anonymous.status, 401)
    assert.match(anonymous.headers.get('www-authenticate') ?? '', /Bearer/)
    assertError(await call(subject, 'GET', '/profile/attributes/proof'), 404, 'not_found')
  })

  it('refuses exchanged tokens: their audience is a resource, not this server', async () => {
    const exchanged = await exchange(as, subject.key, subject.accessToken)
    const holder = { ...subject, accessToken: exchanged.access_token }
    assertError(await call(holder, 'GET', '/profile/attributes'), 401, 'invalid_token')
    assertError(await put(holder, 'x', '1'), 401, 'invalid_token')
    assertError(await call(holder, 'DELETE', '/profile'), 401, 'invalid_token')
  })

  it('refuses client-credentials tokens, which belong to no profile: 403 forbidden', async () => {
    const { clientSecret } = await server.services.clients.create(demo.tenant, {
      clientId: 'profile-backend',
      type: 'confidential',
      grantTypes: [GrantType.clientCredentials],
      scopes: ['attributes:read', 'attributes:write'],
    })
    const client: oauth.Client = { client_id: 'profile-backend' }
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      client,
      oauth.ClientSecretPost(clientSecret!),
      {},
      insecure,
    )
    const token = (await oauth.processClientCredentialsResponse(as, client, response)).access_token
    for (const [method, path] of [
      ['GET', '/profile/attributes'],
      ['DELETE', '/profile'],
    ] as const) {
      const refused = await send(`${server.issuer()}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}` },
      })
      assertError(refused, 403, 'forbidden')
    }
  })

  it('keeps tenants apart: a token of one tenant is refused at another, and the same names do not collide', async () => {
    await server.services.tenants.create({ id: 'other' })
    await server.services.clients.create('other', {
      clientId: demo.client,
      type: 'public',
      scopes: ['attributes:read', 'attributes:write'],
    })
    const otherAS = await discover(server.issuer('other'))
    const stranger = await enrollSubject({ as: otherAS })

    assertError(await call(subject, 'GET', '/profile/attributes', { tenant: 'other' }), 401, 'invalid_token')
    assertError(await put(subject, 'color', '"red"', { tenant: 'other' }), 401, 'invalid_token')
    assertError(await call(stranger, 'GET', '/profile/attributes'), 401, 'invalid_token')

    assert.equal((await put(subject, 'color', '"blue"')).status, 201)
    assert.equal((await put(stranger, 'color', '"red"', { tenant: 'other' })).status, 201)
    assert.equal((await call(subject, 'GET', '/profile/attributes/color')).body, 'blue')
    assert.equal((await call(stranger, 'GET', '/profile/attributes/color', { tenant: 'other' })).body, 'red')
    assert.deepEqual((await call(stranger, 'GET', '/profile/attributes', { tenant: 'other' })).body, {
      color: 'red',
    })
  })

  it('counts attribute writes as activity; reads do not', async () => {
    const fresh = await enrollSubject()
    const longAgo = server.services.clock.now() - 90 * 24 * 3600
    const lastActive = async (): Promise<number> =>
      (
        await db
          .selectFrom('profiles')
          .select('last_active_at')
          .where('id', '=', fresh.profileId)
          .executeTakeFirstOrThrow()
      ).last_active_at
    await db
      .updateTable('profiles')
      .set({ last_active_at: longAgo })
      .where('id', '=', fresh.profileId)
      .execute()
    assert.equal((await call(fresh, 'GET', '/profile/attributes')).status, 200)
    assert.equal(await lastActive(), longAgo)
    assert.equal((await put(fresh, 'seen', 'true')).status, 201)
    assert.ok((await lastActive()) >= server.services.clock.now() - 5)

    await db
      .updateTable('profiles')
      .set({ last_active_at: longAgo })
      .where('id', '=', fresh.profileId)
      .execute()
    assert.equal((await call(fresh, 'DELETE', '/profile/attributes/seen')).status, 204)
    assert.ok((await lastActive()) >= server.services.clock.now() - 5)
  })

  it('lets pages of a web origin of the tenant write and delete, and read the ETag (CORS)', async () => {
    const origin = 'https://profile-app.example'
    await server.services.clients.create(demo.tenant, {
      clientId: 'profile-web',
      type: 'public',
      webOrigins: [origin],
    })
    const preflight = await fetch(`${server.issuer()}/profile/attributes/cart`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'authorization, dpop, content-type, if-match',
      },
    })
    assert.equal(preflight.status, 204)
    assert.equal(preflight.headers.get('access-control-allow-origin'), origin)
    for (const method of ['GET', 'PUT', 'DELETE'])
      assert.match(preflight.headers.get('access-control-allow-methods') ?? '', new RegExp(`\\b${method}\\b`))
    for (const header of ['authorization', 'dpop', 'content-type', 'if-match', 'if-none-match'])
      assert.match(preflight.headers.get('access-control-allow-headers') ?? '', new RegExp(`\\b${header}\\b`))
    const written = await put(subject, 'from-the-web', '1', { headers: { origin } })
    assert.equal(written.status, 201)
    assert.match(written.headers.get('access-control-expose-headers') ?? '', /\betag\b/)
  })

  it('DELETE /profile deletes an anonymous profile with its devices, grants, tokens and attributes', async () => {
    const leaving = await enrollSubject()
    const staying = await enrollSubject()
    assert.equal((await put(leaving, 'cart', '[1,2]')).status, 201)
    assert.equal((await put(staying, 'cart', '[3]')).status, 201)
    const deviceId = (await server.services.devices.list(demo.tenant, { profileId: leaving.profileId }))[0]!
      .id

    const deleted = await call(leaving, 'DELETE', '/profile')
    assert.equal(deleted.status, 204)
    assert.equal(deleted.body, '')

    await rejectsWithOAuthError(refresh(as, leaving.key, leaving.refreshToken), {
      error: 'invalid_grant',
      status: 400,
    })
    await assert.rejects(server.services.devices.get(demo.tenant, deviceId), /does not exist/)
    assert.equal(await server.services.store.profiles.get(demo.tenant, leaving.profileId), undefined)
    assert.deepEqual(await server.services.store.profileAttributes.list(demo.tenant, leaving.profileId), [])
    const count = async (table: 'grants' | 'profile_attributes'): Promise<number> =>
      (await db.selectFrom(table).select('profile_id').where('profile_id', '=', leaving.profileId).execute())
        .length
    assert.equal(await count('grants'), 0)
    assert.equal(await count('profile_attributes'), 0)
    // Its access token died with its grant.
    assertError(await call(leaving, 'GET', '/profile/attributes'), 401, 'invalid_token')
    assertError(await call(leaving, 'DELETE', '/profile'), 401, 'invalid_token')

    // Nobody else's profile is touched.
    assert.deepEqual((await call(staying, 'GET', '/profile/attributes')).body, { cart: [3] })
    assert.ok((await refresh(as, staying.key, staying.refreshToken)).access_token)
  })

  it('DELETE /profile refuses an identified profile: 403 forbidden, nothing deleted', async () => {
    const person = await enrollSubject()
    assert.equal((await put(person, 'name', '"Ada"')).status, 201)
    await db.updateTable('profiles').set({ kind: 'identified' }).where('id', '=', person.profileId).execute()
    const refused = await call(person, 'DELETE', '/profile')
    assertError(refused, 403, 'forbidden')
    assert.match(String((refused.body as { error_description: string }).error_description), /anonymous/)
    assert.equal(
      (await server.services.store.profiles.get(demo.tenant, person.profileId))?.kind,
      'identified',
    )
    assert.equal((await call(person, 'GET', '/profile/attributes/name')).body, 'Ada')
  })
})
