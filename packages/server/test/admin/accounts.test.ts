import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { timeOrderedId } from '../../src/crypto/secrets.ts'
import { storePasskeys } from '../support/passkeys.ts'
import { enrollAnonymous, startTestServer, type TestServer, uniqueId } from './admin-harness.ts'

describe('admin API: accounts', () => {
  let server: TestServer
  let tenant: string
  before(async () => {
    server = await startTestServer()
    tenant = uniqueId('t')
    await server.admin('POST', '/tenants', { body: { id: tenant } })
    await server.admin('POST', `/tenants/${tenant}/clients`, { body: { client_id: 'app', type: 'public' } })
  })
  after(async () => {
    await server?.close()
  })

  /** A person who signs in with an email and with passkeys of one user handle. */
  async function person(
    passkeys: number,
  ): Promise<{ profileId: string; email: string; credentials: string[] }> {
    const { store } = server.runtime.services
    const profileId = timeOrderedId()
    const email = `${uniqueId('ann')}@example.com`
    await store.profiles.create({
      id: profileId,
      tenantId: tenant,
      kind: 'identified',
      createdAt: 1_795_000_000,
      lastActiveAt: 1_795_000_100,
      attachedAt: undefined,
    })
    await store.identities.createIfAbsent({
      id: timeOrderedId(),
      tenantId: tenant,
      provider: 'local',
      subject: email,
      profileId,
      createdAt: 1_795_000_000,
    })
    const credentials = Array.from({ length: passkeys }, () => uniqueId('cred'))
    await storePasskeys(store, {
      tenantId: tenant,
      profileId,
      userHandle: uniqueId('handle'),
      credentialIds: credentials,
    })
    return { profileId, email, credentials }
  }

  it('shows an account by profile id or by an identity, with how it signs in and its passkeys', async () => {
    const { profileId, email, credentials } = await person(2)
    const byId = await server.admin('GET', `/tenants/${tenant}/accounts/${profileId}`)
    assert.equal(byId.status, 200, JSON.stringify(byId.body))
    assert.equal(byId.body.profile_id, profileId)
    assert.equal(byId.body.kind, 'identified')
    assert.equal(byId.body.last_active_at, 1_795_000_100)
    assert.deepEqual(
      byId.body.identities.map((i: { provider: string }) => i.provider),
      ['local', 'passkey'],
    )
    assert.deepEqual(
      byId.body.passkeys.map((p: { credential_id: string }) => p.credential_id),
      credentials,
    )
    assert.equal('public_key' in byId.body.passkeys[0], false)

    const query = new URLSearchParams({ provider: 'local', subject: email.toUpperCase() })
    const byEmail = await server.admin('GET', `/tenants/${tenant}/accounts?${query}`)
    assert.deepEqual(byEmail.body, byId.body)

    const anonymous = await enrollAnonymous(server, tenant, 'app')
    const device = await server.admin('GET', `/tenants/${tenant}/devices/${anonymous.deviceId}`)
    const anonymousAccount = await server.admin(
      'GET',
      `/tenants/${tenant}/accounts/${device.body.profile_id}`,
    )
    assert.equal(anonymousAccount.body.kind, 'anonymous')
    assert.deepEqual([anonymousAccount.body.identities, anonymousAccount.body.passkeys], [[], []])
  })

  it('answers 404 for unknown accounts and identities, 400 for a lookup without both parts', async () => {
    assert.equal((await server.admin('GET', `/tenants/${tenant}/accounts/${timeOrderedId()}`)).status, 404)
    const nobody = new URLSearchParams({ provider: 'local', subject: 'nobody@example.com' })
    assert.equal((await server.admin('GET', `/tenants/${tenant}/accounts?${nobody}`)).status, 404)
    const partial = await server.admin('GET', `/tenants/${tenant}/accounts?provider=local`)
    assert.equal(partial.status, 400)
    assert.equal(partial.body.error, 'invalid_input')
  })

  it('removes passkeys one by one; the last takes its identity along; never another account’s', async () => {
    const { profileId, credentials } = await person(2)
    const other = await person(1)
    const foreign = await server.admin(
      'DELETE',
      `/tenants/${tenant}/accounts/${profileId}/passkeys/${other.credentials[0]}`,
    )
    assert.equal(foreign.status, 404)
    assert.ok(await server.runtime.services.store.passkeyCredentials.get(tenant, other.credentials[0]!))

    const first = await server.admin(
      'DELETE',
      `/tenants/${tenant}/accounts/${profileId}/passkeys/${credentials[0]}`,
    )
    assert.equal(first.status, 204)
    let account = (await server.admin('GET', `/tenants/${tenant}/accounts/${profileId}`)).body
    assert.deepEqual(
      account.passkeys.map((p: { credential_id: string }) => p.credential_id),
      [credentials[1]],
    )
    assert.equal(account.identities.length, 2, 'the user handle still has a passkey')

    const last = await server.admin(
      'DELETE',
      `/tenants/${tenant}/accounts/${profileId}/passkeys/${credentials[1]}`,
    )
    assert.equal(last.status, 204)
    account = (await server.admin('GET', `/tenants/${tenant}/accounts/${profileId}`)).body
    assert.deepEqual(account.passkeys, [])
    assert.deepEqual(
      account.identities.map((i: { provider: string }) => i.provider),
      ['local'],
    )
    const again = await server.admin(
      'DELETE',
      `/tenants/${tenant}/accounts/${profileId}/passkeys/${credentials[1]}`,
    )
    assert.equal(again.status, 404)
  })

  it('names a passkey; 404 for another account’s, 400 for a bad name', async () => {
    const { profileId, credentials } = await person(1)
    const other = await person(1)
    const path = `/tenants/${tenant}/accounts/${profileId}/passkeys/${credentials[0]}`

    const named = await server.admin('PATCH', path, { body: { name: ' Lost\nphone ' } })
    assert.equal(named.status, 200)
    assert.equal(named.body.name, 'Lost phone')
    assert.equal('public_key' in named.body, false)
    const account = (await server.admin('GET', `/tenants/${tenant}/accounts/${profileId}`)).body
    assert.equal(account.passkeys[0].name, 'Lost phone')

    const foreign = `/tenants/${tenant}/accounts/${profileId}/passkeys/${other.credentials[0]}`
    assert.equal((await server.admin('PATCH', foreign, { body: { name: 'Mine' } })).status, 404)
    const tooLong = await server.admin('PATCH', path, { body: { name: 'x'.repeat(65) } })
    assert.deepEqual([tooLong.status, tooLong.body.error], [400, 'invalid_input'])
    assert.equal((await server.admin('PATCH', path, { body: { label: 'x' } })).status, 400)

    const unnamed = await server.admin('PATCH', path, { body: { name: null } })
    assert.deepEqual([unnamed.status, 'name' in unnamed.body], [200, false])
  })
})
