import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { loadConfig } from '../../src/config/config.ts'
import { timeOrderedId } from '../../src/crypto/secrets.ts'
import { closeServices, openServices } from '../../src/runtime.ts'
import { storePasskeys } from '../support/passkeys.ts'
import { onramp, onrampJSON } from './cli-harness.ts'

describe('onramp: managing tenants, clients, resources, devices and keys', () => {
  let dataDir: string
  let env: Record<string, string>
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'onramp-cli-'))
    env = { ONRAMP_DATA_DIR: dataDir }
  })
  after(async () => {
    await rm(dataDir, { recursive: true, force: true })
  })

  it('creates, lists, shows and deletes tenants', async () => {
    const created = await onramp(
      ['tenants', 'create', 'shop', '--name', 'The Shop', '--access-token-ttl', '120'],
      env,
    )
    assert.equal(created.code, 0, created.stderr)
    assert.match(created.stdout, /^Created tenant "shop"\./)
    assert.match(created.stdout, /^access token ttl: +120 s$/m)

    const table = await onramp(['tenants', 'list'], env)
    assert.equal(table.code, 0)
    const [header, ...rows] = table.stdout.trimEnd().split('\n')
    assert.match(header!, /^ID +NAME +ACCESS_TOKEN_TTL +DPOP_NONCE +CREATED$/)
    assert.ok(
      rows.some((row) => /^shop +The Shop +120 +false +\d{4}-\d\d-\d\dT/.test(row)),
      table.stdout,
    )

    const listed = await onrampJSON(['tenants', 'list'], env)
    const shop = listed.tenants.find((t: { id: string }) => t.id === 'shop')
    assert.equal(shop.name, 'The Shop')
    assert.equal(shop.settings.access_token_ttl, 120)
    assert.deepEqual(await onrampJSON(['tenants', 'show', 'shop'], env), shop)

    await onrampJSON(['tenants', 'create', 'doomed'], env)
    assert.deepEqual(await onrampJSON(['tenants', 'delete', 'doomed'], env), { id: 'doomed', deleted: true })
    const gone = await onramp(['tenants', 'show', 'doomed'], env)
    assert.equal(gone.code, 1)
    assert.equal(gone.stdout, '')
    assert.equal(gone.stderr, 'onramp: tenant "doomed" does not exist\n')
  })

  it('reports a failed operation in one line on stderr with exit code 1', async () => {
    await onrampJSON(['tenants', 'create', 'twice'], env)
    for (const [args, message] of [
      [['tenants', 'create', 'twice'], 'tenant "twice" already exists'],
      [['tenants', 'create', 'Not_Valid'], 'tenant id must be'],
      [['tenants', 'delete', 'nobody'], 'tenant "nobody" does not exist'],
      [['clients', 'list', '--tenant', 'nobody'], 'tenant "nobody" does not exist'],
      [['keys', 'rotate', '--tenant', 'nobody'], 'tenant "nobody" does not exist'],
      [['devices', 'revoke', '--tenant', 'twice', '--device', 'nope'], 'device "nope" does not exist'],
    ] as const) {
      const result = await onramp(args, env)
      assert.equal(result.code, 1, args.join(' '))
      assert.equal(result.stdout, '', args.join(' '))
      assert.ok(result.stderr.startsWith(`onramp: ${message}`), result.stderr)
      assert.equal(result.stderr.split('\n').length, 2, result.stderr)
    }
  })

  it('sets and updates a tenant’s merge policy and other settings', async () => {
    const created = await onrampJSON(
      ['tenants', 'create', 'merging', '--merge-policy', 'prefer-existing'],
      env,
    )
    assert.equal(created.settings.merge_policy, 'prefer-existing')
    const shown = await onramp(['tenants', 'show', 'merging'], env)
    assert.match(shown.stdout, /^merge policy: +prefer-existing$/m)

    const updated = await onrampJSON(
      [
        'tenants',
        'update',
        'merging',
        '--merge-policy',
        'prefer-anonymous',
        '--access-token-ttl',
        '90',
        '--dpop-nonce',
      ],
      env,
    )
    assert.equal(updated.settings.merge_policy, 'prefer-anonymous')
    assert.equal(updated.settings.access_token_ttl, 90)
    assert.equal(updated.settings.dpop_nonce, true)
    const renamed = await onramp(
      ['tenants', 'update', 'merging', '--name', 'Merging', '--no-dpop-nonce'],
      env,
    )
    assert.equal(renamed.code, 0, renamed.stderr)
    assert.match(renamed.stdout, /^Updated tenant "merging"\./)
    const after = await onrampJSON(['tenants', 'show', 'merging'], env)
    assert.equal(after.name, 'Merging')
    assert.equal(after.settings.dpop_nonce, false)
    assert.equal(after.settings.access_token_ttl, 90)
    assert.equal(after.settings.signing_alg, 'ES256')

    const offering = await onrampJSON(['tenants', 'update', 'merging', '--offer-passkeys'], env)
    assert.equal(offering.settings.offer_passkeys, true)
    assert.match((await onramp(['tenants', 'show', 'merging'], env)).stdout, /^offer passkeys: +true$/m)
    const quiet = await onrampJSON(['tenants', 'update', 'merging', '--no-offer-passkeys'], env)
    assert.equal(quiet.settings.offer_passkeys, false)

    const edwards = await onrampJSON(['tenants', 'update', 'merging', '--signing-alg', 'Ed25519'], env)
    assert.equal(edwards.settings.signing_alg, 'Ed25519')
    const keys = await onrampJSON(['keys', 'list', '--tenant', 'merging'], env)
    assert.equal(keys.keys.find((key: { status: string }) => key.status === 'active').alg, 'Ed25519')
    assert.match((await onramp(['tenants', 'show', 'merging'], env)).stdout, /^signing algorithm: +Ed25519$/m)

    const strict = await onrampJSON(['tenants', 'update', 'merging', '--login-lockout', '3,300,3600'], env)
    assert.deepEqual(strict.settings.login_lockout, { failures: 3, window_seconds: 300, lock_seconds: 3600 })
    assert.match(
      (await onramp(['tenants', 'show', 'merging'], env)).stdout,
      /^login lockout: +3 failures within 300 s lock an account for 3600 s$/m,
    )
    const quota = await onrampJSON(['tenants', 'update', 'merging', '--attribute-quota', '1024,10,4096'], env)
    assert.deepEqual(quota.settings.attribute_quota, {
      max_value_bytes: 1024,
      max_count: 10,
      max_total_bytes: 4096,
    })
    assert.match(
      (await onramp(['tenants', 'show', 'merging'], env)).stdout,
      /^attribute quota: +10 attributes of up to 1024 bytes each, 4096 bytes in all$/m,
    )
    const unbounded = await onramp(['tenants', 'update', 'merging', '--login-lockout', '0,300,600'], env)
    assert.notEqual(unbounded.code, 0)
    assert.match(unbounded.stderr, /settings\.loginLockout\.failures must be a whole number from 1 to 1000/)

    for (const args of [
      ['tenants', 'create', 'bad-lockout', '--login-lockout', '3,300'],
      ['tenants', 'create', 'bad-quota', '--attribute-quota', '1024,10'],
      ['tenants', 'create', 'bad-lockout', '--login-lockout', 'three,300,600'],
      ['tenants', 'create', 'bad-alg', '--signing-alg', 'HS256'],
      ['tenants', 'create', 'bad-policy', '--merge-policy', 'always'],
      ['tenants', 'update', 'merging', '--dpop-nonce', '--no-dpop-nonce'],
      ['tenants', 'update', 'merging', '--offer-passkeys', '--no-offer-passkeys'],
    ]) {
      const result = await onramp(args, env)
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`)
    }
    const missing = await onramp(['tenants', 'update', 'nobody', '--name', 'x'], env)
    assert.equal(missing.code, 1)
  })

  it('creates clients, shows a secret once and rotates it', async () => {
    await onrampJSON(['tenants', 'create', 'apps'], env)
    const backend = await onrampJSON(
      [
        'clients',
        'create',
        '--tenant',
        'apps',
        '--client-id',
        'backend',
        '--type',
        'confidential',
        '--scopes',
        'a,b',
      ],
      env,
    )
    assert.equal(backend.client_id, 'backend')
    assert.deepEqual(backend.scopes, ['a', 'b'])
    assert.equal(typeof backend.client_secret, 'string')

    const shown = await onrampJSON(['clients', 'show', '--tenant', 'apps', '--client-id', 'backend'], env)
    assert.equal('client_secret' in shown, false)
    const rotated = await onrampJSON(
      ['clients', 'rotate-secret', '--tenant', 'apps', '--client-id', 'backend'],
      env,
    )
    assert.equal(rotated.client_id, 'backend')
    assert.notEqual(rotated.client_secret, backend.client_secret)

    const text = await onramp(
      [
        'clients',
        'create',
        '--tenant',
        'apps',
        '--client-id',
        'mobile',
        '--type',
        'public',
        '--grant-types',
        'anonymous,refresh_token,authorization_code',
        '--redirect-uris',
        'com.example:/cb',
      ],
      env,
    )
    assert.equal(text.code, 0, text.stderr)
    assert.doesNotMatch(text.stdout, /secret/i)
    const mobile = await onrampJSON(['clients', 'show', '--tenant', 'apps', '--client-id', 'mobile'], env)
    assert.deepEqual(mobile.grant_types, [
      'urn:onramp:params:oauth:grant-type:anonymous',
      'refresh_token',
      'authorization_code',
    ])
    assert.deepEqual(mobile.redirect_uris, ['com.example:/cb'])

    const table = await onramp(['clients', 'list', '--tenant', 'apps'], env)
    assert.match(table.stdout, /^CLIENT_ID +TYPE +NAME +GRANT_TYPES +SCOPES$/m)
    assert.match(table.stdout, /^backend +confidential +backend +client_credentials,token_exchange +a,b$/m)
    assert.match(table.stdout, /^mobile +public +mobile +anonymous,refresh_token,authorization_code +-$/m)

    const publicSecret = await onramp(
      ['clients', 'rotate-secret', '--tenant', 'apps', '--client-id', 'mobile'],
      env,
    )
    assert.equal(publicSecret.code, 1)
    assert.equal(publicSecret.stderr, 'onramp: public clients have no secret\n')

    assert.deepEqual(
      await onrampJSON(['clients', 'delete', '--tenant', 'apps', '--client-id', 'mobile'], env),
      {
        client_id: 'mobile',
        deleted: true,
      },
    )
    const list = await onrampJSON(['clients', 'list', '--tenant', 'apps'], env)
    assert.deepEqual(
      list.clients.map((c: { client_id: string }) => c.client_id),
      ['backend'],
    )
  })

  it('creates, lists and deletes resources', async () => {
    await onrampJSON(['tenants', 'create', 'apis'], env)
    const created = await onrampJSON(
      [
        'resources',
        'create',
        '--tenant',
        'apis',
        '--audience',
        'https://api.example.com/orders',
        '--scopes',
        'orders:read',
        '--allowed-clients',
        'mobile,web',
        '--allow-anonymous',
        '--authentication-modes',
        'password,biometric',
        '--access-token-ttl',
        '900',
      ],
      env,
    )
    assert.deepEqual(
      { ...created, created_at: 0 },
      {
        audience: 'https://api.example.com/orders',
        name: 'https://api.example.com/orders',
        scopes: ['orders:read'],
        allowed_clients: ['mobile', 'web'],
        allow_anonymous: true,
        authentication_modes: ['password', 'biometric'],
        access_token_ttl: 900,
        has_secret: false,
        created_at: 0,
      },
    )
    const table = await onramp(['resources', 'list', '--tenant', 'apis'], env)
    assert.match(
      table.stdout,
      /^https:\/\/api\.example\.com\/orders +https:\S+ +orders:read +mobile,web +true +900$/m,
    )
    const duplicate = await onramp(
      ['resources', 'create', '--tenant', 'apis', '--audience', 'https://api.example.com/orders'],
      env,
    )
    assert.equal(duplicate.code, 1)
    assert.match(duplicate.stderr, /already exists/)
    const orders = ['--tenant', 'apis', '--audience', 'https://api.example.com/orders']
    const rotated = await onrampJSON(['resources', 'rotate-secret', ...orders], env)
    assert.match(rotated.secret, /^[A-Za-z0-9_-]{43}$/)
    // The printed secret is the one the server accepts.
    const services = await openServices(loadConfig({ env, argv: [] }))
    try {
      const resource = await services.resources.authenticate('apis', rotated.audience, rotated.secret)
      assert.equal(resource?.audience, 'https://api.example.com/orders')
    } finally {
      await closeServices(services)
    }
    const shown = await onramp(['resources', 'rotate-secret', ...orders], env)
    assert.match(
      shown.stdout,
      /^New secret of resource "https:\/\/api\.example\.com\/orders" \(shown only now\): \S{43}\n$/,
    )
    assert.deepEqual(await onrampJSON(['resources', 'remove-secret', ...orders], env), {
      audience: 'https://api.example.com/orders',
      has_secret: false,
    })
    await onrampJSON(['resources', 'delete', ...orders], env)
    const empty = await onramp(['resources', 'list', '--tenant', 'apis'], env)
    assert.equal(empty.stdout, 'No resources in tenant "apis".\n')
  })

  it('rotates keys, keeping the old one published as long as its longest-lived token', async () => {
    await onrampJSON(['tenants', 'create', 'signer', '--access-token-ttl', '600'], env)
    await onrampJSON(
      ['resources', 'create', '--tenant', 'signer', '--audience', 'slow', '--access-token-ttl', '7200'],
      env,
    )
    const before = await onrampJSON(['keys', 'list', '--tenant', 'signer'], env)
    assert.equal(before.keys.length, 1)
    const [original] = before.keys
    assert.equal(original.status, 'active')

    const rotated = await onrampJSON(['keys', 'rotate', '--tenant', 'signer'], env)
    assert.notEqual(rotated.kid, original.kid)
    assert.equal(rotated.keys.length, 2)
    const retired = rotated.keys.find((k: { kid: string }) => k.kid === original.kid)
    assert.equal(retired.status, 'retired')
    const window = retired.publish_until - retired.retired_at
    assert.ok(window >= 7200 && window <= 7200 + 60, `published for ${window} s`)
    assert.equal(rotated.keys.find((k: { kid: string }) => k.kid === rotated.kid).status, 'active')

    const table = await onramp(['keys', 'list', '--tenant', 'signer'], env)
    assert.match(table.stdout, /^KID +ALG +STATUS +CREATED +RETIRED +PUBLISHED_UNTIL$/m)
    assert.match(table.stdout, new RegExp(`^${rotated.kid} +ES256 +active +\\S+ +- +-$`, 'm'))
    assert.match(table.stdout, new RegExp(`^${original.kid} +ES256 +retired +\\S+ +\\S+Z +\\S+Z$`, 'm'))
  })

  it('lists no devices for a new tenant', async () => {
    await onrampJSON(['tenants', 'create', 'empty'], env)
    const text = await onramp(['devices', 'list', '--tenant', 'empty'], env)
    assert.equal(text.code, 0)
    assert.equal(text.stdout, 'No devices in tenant "empty".\n')
    assert.deepEqual(await onrampJSON(['devices', 'list', '--tenant', 'empty'], env), { devices: [] })
  })

  it('shows an account by email or identity, and removes its passkey', async () => {
    await onrampJSON(['tenants', 'create', 'people'], env)
    const services = await openServices(loadConfig({ env, argv: [] }))
    try {
      const profileId = timeOrderedId()
      await services.store.profiles.create({
        id: profileId,
        tenantId: 'people',
        kind: 'identified',
        createdAt: 1_795_000_000,
        lastActiveAt: 1_795_000_000,
        attachedAt: undefined,
      })
      await services.store.identities.createIfAbsent({
        id: timeOrderedId(),
        tenantId: 'people',
        provider: 'local',
        subject: 'ann@example.com',
        profileId,
        createdAt: 1_795_000_000,
      })
      await storePasskeys(services.store, {
        tenantId: 'people',
        profileId,
        userHandle: 'aGFuZGxl',
        credentialIds: ['Y3JlZA'],
        transports: [],
      })
    } finally {
      await closeServices(services)
    }
    const shown = await onramp(['accounts', 'show', '--tenant', 'people', '--email', 'Ann@Example.com'], env)
    assert.equal(shown.code, 0, shown.stderr)
    assert.match(shown.stdout, /^signs in with: +local:ann@example\.com,passkey:aGFuZGxl$/m)
    assert.match(shown.stdout, /^passkeys: +Y3JlZA$/m)
    const byIdentity = await onrampJSON(
      ['accounts', 'show', '--tenant', 'people', '--identity', 'passkey:aGFuZGxl'],
      env,
    )
    assert.equal(byIdentity.passkeys[0].credential_id, 'Y3JlZA')
    const rename = ['accounts', 'rename-passkey', '--tenant', 'people', '--profile', byIdentity.profile_id]
    const renamed = await onramp([...rename, '--credential', 'Y3JlZA', '--name', 'Work phone'], env)
    assert.equal(renamed.code, 0, renamed.stderr)
    assert.match(renamed.stdout, /is named "Work phone"/)
    const named = await onramp(
      ['accounts', 'show', '--tenant', 'people', '--profile', byIdentity.profile_id],
      env,
    )
    assert.match(named.stdout, /^passkeys: +Y3JlZA \(Work phone\)$/m)
    const unnamed = await onrampJSON([...rename, '--credential', 'Y3JlZA', '--name', ' '], env)
    assert.equal('name' in unnamed, false)
    const foreign = await onramp([...rename, '--credential', 'bm9uZQ', '--name', 'x'], env)
    assert.notEqual(foreign.code, 0)
    const both = await onramp(
      ['accounts', 'show', '--tenant', 'people', '--email', 'a@b.c', '--profile', 'x'],
      env,
    )
    assert.equal(both.code, 2)
    const removed = await onramp(
      [
        'accounts',
        'remove-passkey',
        '--tenant',
        'people',
        '--profile',
        byIdentity.profile_id,
        '--credential',
        'Y3JlZA',
      ],
      env,
    )
    assert.equal(removed.code, 0, removed.stderr)
    const after = await onrampJSON(
      ['accounts', 'show', '--tenant', 'people', '--profile', byIdentity.profile_id],
      env,
    )
    assert.deepEqual([after.passkeys, after.identities.length], [[], 1])
  })
})
