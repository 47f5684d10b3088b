import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type * as oauth from 'oauth4webapi'
import { timeOrderedId } from '../../src/crypto/secrets.ts'
import { accessTokenHash, createProof } from '../support/dpop-proof.ts'
import {
  Browser,
  enableHostedLogin,
  logIn,
  newCredentials,
  pushAuthorization,
  redeemCode,
} from '../support/hosted-login.ts'
import { assertOAuthError, type RawResponse, send } from '../support/http.ts'
import { createDeviceKey, type DeviceKey, decodeJWT, demo, discover } from '../support/oauth-client.ts'
import { storePasskeys } from '../support/passkeys.ts'
import { startTestServer, type TestServer } from '../support/server.ts'

type PasskeyList = { passkeys: Record<string, unknown>[] }

/** A signed-up person: their DPoP key, access token, profile and email. */
interface Person {
  key: DeviceKey
  accessToken: string
  profileId: string
  email: string
}

describe('a person’s own passkeys: GET, PATCH and DELETE /profile/passkeys', () => {
  let server: TestServer
  let as: oauth.AuthorizationServer

  before(async () => {
    server = await startTestServer()
    await enableHostedLogin(server.services)
    await server.services.clients.update(demo.tenant, demo.client, {
      scopes: ['attributes:read', 'attributes:write', 'account:read', 'account:write'],
    })
    as = await discover(server.issuer())
  })
  after(() => server?.close())

  async function signUp(scope = 'account:read account:write'): Promise<Person> {
    const key = await createDeviceKey()
    const credentials = newCredentials()
    const pushed = await pushAuthorization(as, { key, scope })
    const callback = await logIn(new Browser(server.url), pushed.authorizationURL, credentials, {
      signUp: true,
    })
    const tokens = await redeemCode(as, callback, pushed, { key })
    const profileId = String(decodeJWT(tokens.access_token).payload.sub)
    return { key, accessToken: tokens.access_token, profileId, email: credentials.email }
  }

  /** Passkeys of one new user handle, attached to the person's profile as a `passkey` identity. */
  async function addPasskeys(person: Person, count: number): Promise<string[]> {
    const credentialIds = Array.from({ length: count }, () =>
      Buffer.from(timeOrderedId()).toString('base64url'),
    )
    await storePasskeys(server.services.store, {
      tenantId: demo.tenant,
      profileId: person.profileId,
      userHandle: timeOrderedId(),
      credentialIds,
      transports: ['internal', 'hybrid'],
    })
    return credentialIds
  }

  async function call(
    person: Person,
    method: 'GET' | 'PATCH' | 'DELETE',
    path: string,
    body?: { json: string; type?: string },
  ): Promise<RawResponse> {
    const url = `${server.issuer()}${path}`
    const proof = await createProof(person.key.keyPair, {
      htm: method,
      htu: url,
      ath: accessTokenHash(person.accessToken),
    })
    const headers: Record<string, string> = { authorization: `DPoP ${person.accessToken}`, dpop: proof }
    if (body) headers['content-type'] = body.type ?? 'application/json'
    return send(url, { method, headers, ...(body && { body: body.json }) })
  }

  function rename(person: Person, credentialId: string, name: unknown): Promise<RawResponse> {
    return call(person, 'PATCH', `/profile/passkeys/${credentialId}`, { json: JSON.stringify({ name }) })
  }

  async function passkeysOf(person: Person): Promise<PasskeyList['passkeys']> {
    const response = await call(person, 'GET', '/profile/passkeys')
    assert.equal(response.status, 200, JSON.stringify(response.body))
    return (response.body as PasskeyList).passkeys
  }

  async function names(person: Person): Promise<(string | undefined)[]> {
    return (await passkeysOf(person)).map((p) => p.name as string | undefined)
  }

  async function listed(person: Person): Promise<string[]> {
    return (await passkeysOf(person)).map((p) => String(p.credential_id))
  }

  it('lists the person’s passkeys, oldest first, without their public keys', async () => {
    const person = await signUp()
    assert.deepEqual(await listed(person), [], 'a password account starts without passkeys')
    const ids = await addPasskeys(person, 2)
    await server.services.store.passkeyCredentials.recordUse(demo.tenant, ids[0]!, {
      counter: 1,
      usedAt: 1_795_000_500,
    })
    await addPasskeys(await signUp(), 1)

    const response = await call(person, 'GET', '/profile/passkeys')
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('cache-control'), 'no-store')
    assert.deepEqual(
      (response.body as PasskeyList).passkeys.map((p) => ({ ...p, user_handle: undefined })),
      [
        {
          credential_id: ids[0],
          user_handle: undefined,
          transports: ['internal', 'hybrid'],
          created_at: 1_795_000_000,
          last_used_at: 1_795_000_500,
        },
        {
          credential_id: ids[1],
          user_handle: undefined,
          transports: ['internal', 'hybrid'],
          created_at: 1_795_000_001,
        },
      ],
    )
  })

  it('removes one passkey at a time, the last with its identity; never another person’s', async () => {
    const person = await signUp()
    const ids = await addPasskeys(person, 2)
    const other = await signUp()
    const [othersPasskey] = await addPasskeys(other, 1)

    const foreign = await call(person, 'DELETE', `/profile/passkeys/${othersPasskey}`)
    assertOAuthError(foreign, 404, 'not_found')
    assert.deepEqual(await listed(other), [othersPasskey])

    const first = await call(person, 'DELETE', `/profile/passkeys/${ids[0]}`)
    assert.equal(first.status, 204)
    assert.deepEqual(await listed(person), [ids[1]])
    assertOAuthError(await call(person, 'DELETE', `/profile/passkeys/${ids[0]}`), 404, 'not_found')

    // The email still signs in, so the last passkey may go, and its identity with it.
    assert.equal((await call(person, 'DELETE', `/profile/passkeys/${ids[1]}`)).status, 204)
    assert.deepEqual(await listed(person), [])
    const account = await server.services.accounts.get(demo.tenant, person.profileId)
    assert.deepEqual(
      account.identities.map((i) => i.provider),
      ['local'],
    )
  })

  it('names a passkey, tidies the name and unnames it with null; never another person’s', async () => {
    const person = await signUp()
    const ids = await addPasskeys(person, 2)
    const other = await signUp()
    const [othersPasskey] = await addPasskeys(other, 1)

    const named = await rename(person, ids[1]!, '  Work\tlaptop \u200b ')
    assert.equal(named.status, 200, JSON.stringify(named.body))
    assert.equal(named.headers.get('cache-control'), 'no-store')
    assert.deepEqual(
      { ...(named.body as object), user_handle: undefined },
      {
        credential_id: ids[1],
        user_handle: undefined,
        name: 'Work laptop',
        transports: ['internal', 'hybrid'],
        created_at: 1_795_000_001,
      },
    )
    assert.deepEqual(await names(person), [undefined, 'Work laptop'])

    assertOAuthError(await rename(person, othersPasskey!, 'Mine now'), 404, 'not_found')
    assert.deepEqual(await names(other), [undefined])

    const family = await rename(person, ids[1]!, '\u202eenohp \u{1f468}\u200d\u{1f469}\u200d\u{1f467}')
    assert.equal((family.body as { name: string }).name, 'enohp \u{1f468}\u200d\u{1f469}\u200d\u{1f467}')
    assert.equal((await rename(person, ids[1]!, null)).status, 200)
    assert.deepEqual(await names(person), [undefined, undefined])
    assert.equal((await rename(person, ids[0]!, 'x'.repeat(64))).status, 200)
    assert.equal((await rename(person, ids[0]!, '   ')).status, 200, 'a blank name unnames')
    assert.deepEqual(await names(person), [undefined, undefined])
  })

  it('refuses a bad name with a 4xx and keeps the old one', async () => {
    const person = await signUp()
    const [id] = await addPasskeys(person, 1)
    assert.equal((await rename(person, id!, 'Phone')).status, 200)
    const path = `/profile/passkeys/${id}`

    assertOAuthError(await rename(person, id!, 'x'.repeat(65)), 400, 'invalid_input')
    assertOAuthError(await rename(person, id!, 42), 400, 'invalid_input')
    assertOAuthError(await call(person, 'PATCH', path, { json: '{}' }), 400, 'invalid_input')
    assertOAuthError(
      await call(person, 'PATCH', path, { json: '{"name":"a","public_key":"b"}' }),
      400,
      'invalid_input',
    )
    assertOAuthError(await call(person, 'PATCH', path, { json: '{"name":' }), 400, 'invalid_input')
    assertOAuthError(
      await call(person, 'PATCH', path, { json: 'name=a', type: 'application/x-www-form-urlencoded' }),
      415,
      'unsupported_media_type',
    )
    assert.deepEqual(await names(person), ['Phone'])
  })

  it('refuses to remove the account’s last way to sign in, and changes nothing', async () => {
    const person = await signUp()
    const [only] = await addPasskeys(person, 1)
    // The person forgot their password: an administrator took the email's sign-in away.
    await server.services.store.identities.delete(demo.tenant, 'local', person.email)

    const refused = await call(person, 'DELETE', `/profile/passkeys/${only}`)
    assertOAuthError(refused, 409, 'conflict')
    assert.deepEqual(await listed(person), [only])
    const account = await server.services.accounts.get(demo.tenant, person.profileId)
    assert.deepEqual(
      account.identities.map((i) => i.provider),
      ['passkey'],
    )
  })

  it('needs account:read to list and account:write to name or remove', async () => {
    const reader = await signUp('account:read')
    const [id] = await addPasskeys(reader, 2)
    assert.equal((await listed(reader)).length, 2)
    assertOAuthError(await call(reader, 'DELETE', `/profile/passkeys/${id}`), 403, 'insufficient_scope')
    assertOAuthError(await rename(reader, id!, 'Phone'), 403, 'insufficient_scope')

    const writer = await signUp('account:write attributes:read')
    assertOAuthError(await call(writer, 'GET', '/profile/passkeys'), 403, 'insufficient_scope')
    assert.equal((await listed(reader)).length, 2)
  })

  it('answers a request without a token or proof with the DPoP challenge', async () => {
    const person = await signUp()
    const url = `${server.issuer()}/profile/passkeys`
    const anonymous = await send(url)
    assert.equal(anonymous.status, 401)
    assert.match(anonymous.headers.get('www-authenticate') ?? '', /DPoP/)
    const withoutProof = await send(url, { headers: { authorization: `DPoP ${person.accessToken}` } })
    assertOAuthError(withoutProof, 401, 'invalid_dpop_proof')
  })
})
