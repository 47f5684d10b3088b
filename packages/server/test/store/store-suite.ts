import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { setTimeout } from 'node:timers/promises'
import type { AuthorizationCodeRecord } from '../../src/store/authorization-code-store.ts'
import type { Client } from '../../src/store/client-store.ts'
import type { Device } from '../../src/store/device-store.ts'
import type { Grant } from '../../src/store/grant-store.ts'
import type { Identity } from '../../src/store/identity-store.ts'
import type { LocalAccount } from '../../src/store/local-account-store.ts'
import { migrationProvider } from '../../src/store/migrations/index.ts'
import type { PasskeyCredential } from '../../src/store/passkey-credential-store.ts'
import type { Profile } from '../../src/store/profile-store.ts'
import type { RefreshTokenRecord } from '../../src/store/refresh-token-store.ts'
import type { Resource } from '../../src/store/resource-store.ts'
import type { SigningKeyRecord } from '../../src/store/signing-key-store.ts'
import type { Store } from '../../src/store/stores.ts'
import type { Tenant, TenantSettings } from '../../src/store/tenant-store.ts'

export interface OpenedStore {
  store: Store
  cleanup: () => Promise<void>
  /** What `migrateToLatest` applied when the store's database was opened empty. */
  migrated?: string[]
  /** Runs `migrateToLatest` again on the same database. */
  migrate?: () => Promise<string[]>
}

/** Epoch seconds. `LATER` is past 2^31, so it only round-trips through a 64-bit column. */
const NOW = 1_767_225_600
const LATER = 4_102_444_800

const settings: TenantSettings = {
  accessTokenTtl: 300,
  refreshTokenIdleTtl: 86_400,
  refreshTokenAbsoluteTtl: 2_592_000,
  dpopNonce: true,
  anonymousInactivityDays: 90,
  mergePolicy: 'prefer-existing',
}

/**
 * Every store operation, against whatever database `open` provides. `open` runs once, before
 * all tests; each test works in tenants of its own, so the tests do not depend on each other.
 */
export function defineStoreSuite(name: string, open: () => Promise<OpenedStore>): void {
  describe(name, () => {
    let opened: OpenedStore | undefined
    const run = randomBytes(3).toString('hex')
    let sequence = 0
    /** A fresh id, short enough for every varchar(64) column. */
    const uid = (prefix: string): string => `${prefix}-${run}-${String(++sequence).padStart(4, '0')}`
    const store = (): Store => {
      assert.ok(opened, 'the store was not opened')
      return opened.store
    }

    before(async () => {
      opened = await open()
    })
    after(async () => {
      await opened?.cleanup()
    })

    // --- fixtures -------------------------------------------------------------------------------

    function tenantOf(id = uid('tenant')): Tenant {
      return { id, name: `Tenant ${id}`, settings, createdAt: NOW }
    }
    function clientOf(tenantId: string, overrides: Partial<Client> = {}): Client {
      return {
        tenantId,
        clientId: uid('client'),
        name: 'Mobile app',
        type: 'confidential',
        secretHash: 'c2VjcmV0LWhhc2g',
        grantTypes: ['authorization_code', 'refresh_token'],
        scopes: ['openid', 'profile', 'offline_access'],
        redirectUris: ['https://app.example/callback', 'com.example.app:/cb'],
        webOrigins: ['https://app.example.com', 'http://localhost:3000'],
        pkceRequired: true,
        appPolicy: {
          minVersion: '1.2.0',
          latestVersion: '2.0.1',
          platforms: { ios: { minVersion: '1.3.0' }, android: { latestVersion: '2.0.0' } },
        },
        createdAt: NOW,
        ...overrides,
      }
    }
    function resourceOf(tenantId: string, overrides: Partial<Resource> = {}): Resource {
      return {
        tenantId,
        audience: `https://${uid('api')}.example/v1`,
        name: 'Orders API',
        scopes: ['orders:read', 'orders:write'],
        policy: {
          allowedClients: ['client-a', 'client-b'],
          allowAnonymous: false,
          minAcr: '1',
          authenticationModes: ['password', 'biometric'],
        },
        accessTokenTtl: 600,
        secretHash: undefined,
        createdAt: NOW,
        ...overrides,
      }
    }
    function profileOf(tenantId: string, overrides: Partial<Profile> = {}): Profile {
      return {
        id: uid('profile'),
        tenantId,
        kind: 'anonymous',
        createdAt: NOW,
        lastActiveAt: NOW,
        attachedAt: undefined,
        ...overrides,
      }
    }
    function deviceOf(tenantId: string, profileId: string, overrides: Partial<Device> = {}): Device {
      return {
        id: uid('device'),
        tenantId,
        profileId,
        clientId: 'mobile',
        jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs',
        authenticationMode: 'biometric',
        hardwareKey: true,
        createdAt: NOW,
        lastSeenAt: NOW,
        revokedAt: undefined,
        ...overrides,
      }
    }
    function grantOf(tenantId: string, profileId: string, overrides: Partial<Grant> = {}): Grant {
      return {
        id: uid('grant'),
        tenantId,
        profileId,
        clientId: 'mobile',
        deviceId: undefined,
        jkt: undefined,
        scope: 'openid offline_access',
        acr: '0',
        amr: ['hwk', 'user'],
        createdAt: NOW,
        expiresAt: LATER,
        revokedAt: undefined,
        revokedReason: undefined,
        ...overrides,
      }
    }
    function refreshTokenOf(tenantId: string, grantId: string): RefreshTokenRecord {
      return {
        tokenId: uid('rt'),
        tokenHash: uid('hash'),
        grantId,
        tenantId,
        createdAt: NOW,
        expiresAt: LATER,
        usedAt: undefined,
      }
    }
    function signingKeyOf(tenantId: string, overrides: Partial<SigningKeyRecord> = {}): SigningKeyRecord {
      const kid = uid('kid')
      return {
        kid,
        tenantId,
        alg: 'ES256',
        publicJWK: { kty: 'EC', crv: 'P-256', x: `x-${kid}`, y: `y-${kid}`, alg: 'ES256', use: 'sig' },
        privateKey: `sealed:${kid}`,
        status: 'active',
        createdAt: NOW,
        retiredAt: undefined,
        publishUntil: undefined,
        ...overrides,
      }
    }

    async function newTenant(): Promise<Tenant> {
      const tenant = tenantOf()
      await store().tenants.create(tenant)
      return tenant
    }
    /** A tenant with a profile, for the tables that reference both. */
    async function newProfile(): Promise<{ tenant: Tenant; profile: Profile }> {
      const tenant = await newTenant()
      const profile = profileOf(tenant.id)
      await store().profiles.create(profile)
      return { tenant, profile }
    }

    function assertNumbers(value: object, keys: string[]): void {
      for (const key of keys) {
        const field = (value as Record<string, unknown>)[key]
        assert.equal(typeof field, 'number', `${key} is ${typeof field} (${String(field)}), not a number`)
      }
    }

    // --- tests ----------------------------------------------------------------------------------

    describe('migrations', () => {
      it('apply every migration to an empty database', async (t) => {
        if (!opened?.migrated) return t.skip('open() did not report migrations')
        const all = Object.keys(await migrationProvider.getMigrations())
        assert.ok(all.length > 0)
        assert.deepEqual(opened.migrated, all)
      })

      it('are idempotent: a second run applies nothing', async (t) => {
        if (!opened?.migrate) return t.skip('open() did not provide migrate()')
        assert.deepEqual(await opened.migrate(), [])
        assert.deepEqual(await opened.migrate(), [])
      })

      it('leave a database that answers ping', async () => {
        await store().ping()
      })
    })

    describe('tenants', () => {
      it('create, get, list round-trip settings JSON', async () => {
        const a = tenantOf()
        const b = tenantOf()
        await store().tenants.create(b)
        await store().tenants.create(a)
        const got = await store().tenants.get(a.id)
        assert.deepEqual(got, a)
        assert.ok(got)
        assertNumbers(got, ['createdAt'])
        assertNumbers(got.settings, ['accessTokenTtl', 'refreshTokenIdleTtl', 'refreshTokenAbsoluteTtl'])
        assert.equal(got.settings.dpopNonce, true)
        const listed = (await store().tenants.list()).filter((t) => t.id === a.id || t.id === b.id)
        assert.deepEqual(
          listed,
          [a, b].sort((x, y) => (x.id < y.id ? -1 : 1)),
        )
        assert.equal(await store().tenants.get(uid('missing')), undefined)
      })

      it('reject a duplicate id', async () => {
        const tenant = await newTenant()
        await assert.rejects(store().tenants.create({ ...tenant, name: 'Other' }))
        assert.equal((await store().tenants.get(tenant.id))?.name, tenant.name)
      })

      it('update name and settings independently', async () => {
        const tenant = await newTenant()
        assert.equal(await store().tenants.update(tenant.id, { name: 'Renamed' }), true)
        assert.deepEqual(await store().tenants.get(tenant.id), { ...tenant, name: 'Renamed' })
        const newSettings = { ...settings, dpopNonce: false, accessTokenTtl: 900 }
        assert.equal(await store().tenants.update(tenant.id, { settings: newSettings }), true)
        assert.deepEqual(await store().tenants.get(tenant.id), {
          ...tenant,
          name: 'Renamed',
          settings: newSettings,
        })
        assert.equal(await store().tenants.update(uid('missing'), { name: 'x' }), false)
      })

      it('update with an empty patch changes nothing and reports whether the tenant exists', async () => {
        const tenant = await newTenant()
        assert.equal(await store().tenants.update(tenant.id, {}), true)
        assert.deepEqual(await store().tenants.get(tenant.id), tenant)
        assert.equal(await store().tenants.update(uid('missing'), {}), false)
      })

      it('delete once', async () => {
        const tenant = await newTenant()
        assert.equal(await store().tenants.delete(tenant.id), true)
        assert.equal(await store().tenants.get(tenant.id), undefined)
        assert.equal(await store().tenants.delete(tenant.id), false)
      })
    })

    describe('clients', () => {
      it('create and get round-trip arrays, appPolicy and numbers', async () => {
        const tenant = await newTenant()
        const client = clientOf(tenant.id)
        await store().clients.create(client)
        const got = await store().clients.get(tenant.id, client.clientId)
        assert.deepEqual(got, client)
        assert.ok(got)
        assertNumbers(got, ['createdAt'])
      })

      it('round-trip a public client without secret or appPolicy', async () => {
        const tenant = await newTenant()
        const client = clientOf(tenant.id, {
          type: 'public',
          secretHash: undefined,
          appPolicy: undefined,
          redirectUris: [],
          pkceRequired: false,
          createdAt: LATER,
        })
        await store().clients.create(client)
        assert.deepEqual(await store().clients.get(tenant.id, client.clientId), client)
      })

      it('list only the tenant’s clients, ordered by client id', async () => {
        const tenant = await newTenant()
        const other = await newTenant()
        const clients = [clientOf(tenant.id), clientOf(tenant.id), clientOf(tenant.id)]
        for (const client of [...clients].reverse()) await store().clients.create(client)
        await store().clients.create(clientOf(other.id))
        assert.deepEqual(await store().clients.list(tenant.id), clients)
        assert.deepEqual(await store().clients.list(uid('missing')), [])
      })

      it('reject a duplicate client id in one tenant, allow it in another', async () => {
        const tenant = await newTenant()
        const other = await newTenant()
        const client = clientOf(tenant.id)
        await store().clients.create(client)
        await assert.rejects(store().clients.create({ ...client, name: 'Duplicate' }))
        const twin = { ...client, tenantId: other.id, name: 'Twin' }
        await store().clients.create(twin)
        assert.deepEqual(await store().clients.get(tenant.id, client.clientId), client)
        assert.deepEqual(await store().clients.get(other.id, client.clientId), twin)
      })

      it('update only the fields in the patch', async () => {
        const tenant = await newTenant()
        const client = clientOf(tenant.id)
        await store().clients.create(client)

        assert.equal(await store().clients.update(tenant.id, client.clientId, { name: 'Renamed' }), true)
        let expected: Client = { ...client, name: 'Renamed' }
        assert.deepEqual(await store().clients.get(tenant.id, client.clientId), expected)

        const patch = {
          grantTypes: ['client_credentials'],
          scopes: [],
          redirectUris: ['https://new.example/cb'],
          secretHash: 'bmV3LWhhc2g',
          appPolicy: { minVersion: '3.0.0' },
        }
        assert.equal(await store().clients.update(tenant.id, client.clientId, patch), true)
        expected = { ...expected, ...patch }
        assert.deepEqual(await store().clients.get(tenant.id, client.clientId), expected)
      })

      it('clear appPolicy when the patch has the key with undefined, keep it when the key is absent', async () => {
        const tenant = await newTenant()
        const client = clientOf(tenant.id)
        await store().clients.create(client)

        assert.equal(await store().clients.update(tenant.id, client.clientId, { scopes: ['openid'] }), true)
        assert.deepEqual((await store().clients.get(tenant.id, client.clientId))?.appPolicy, client.appPolicy)

        assert.equal(await store().clients.update(tenant.id, client.clientId, { appPolicy: undefined }), true)
        assert.deepEqual(await store().clients.get(tenant.id, client.clientId), {
          ...client,
          scopes: ['openid'],
          appPolicy: undefined,
        })
      })

      it('update with an empty patch changes nothing and reports whether the client exists', async () => {
        const tenant = await newTenant()
        const client = clientOf(tenant.id)
        await store().clients.create(client)
        assert.equal(await store().clients.update(tenant.id, client.clientId, {}), true)
        assert.equal(await store().clients.update(tenant.id, client.clientId, { name: undefined }), true)
        assert.deepEqual(await store().clients.get(tenant.id, client.clientId), client)
        assert.equal(await store().clients.update(tenant.id, uid('missing'), {}), false)
      })

      it('update and delete return false for a missing client', async () => {
        const tenant = await newTenant()
        assert.equal(await store().clients.update(tenant.id, uid('missing'), { name: 'x' }), false)
        assert.equal(await store().clients.delete(tenant.id, uid('missing')), false)
      })

      it('delete once', async () => {
        const tenant = await newTenant()
        const client = clientOf(tenant.id)
        await store().clients.create(client)
        assert.equal(await store().clients.delete(tenant.id, client.clientId), true)
        assert.equal(await store().clients.get(tenant.id, client.clientId), undefined)
        assert.equal(await store().clients.delete(tenant.id, client.clientId), false)
      })

      it('are isolated by tenant: get, update and delete through another tenant miss', async () => {
        const tenant = await newTenant()
        const other = await newTenant()
        const client = clientOf(tenant.id)
        await store().clients.create(client)
        assert.equal(await store().clients.get(other.id, client.clientId), undefined)
        assert.equal(await store().clients.get('other-tenant', client.clientId), undefined)
        assert.equal(await store().clients.update(other.id, client.clientId, { name: 'Hijacked' }), false)
        assert.equal(await store().clients.delete(other.id, client.clientId), false)
        assert.deepEqual(await store().clients.list(other.id), [])
        assert.deepEqual(await store().clients.get(tenant.id, client.clientId), client)
      })

      it('reject a client of a missing tenant', async () => {
        const client = clientOf(uid('missing'))
        await assert.rejects(store().clients.create(client))
        assert.equal(await store().clients.get(client.tenantId, client.clientId), undefined)
      })
    })

    describe('resources', () => {
      it('create, get and list round-trip the policy JSON', async () => {
        const tenant = await newTenant()
        const other = await newTenant()
        const a = resourceOf(tenant.id)
        const b = resourceOf(tenant.id, {
          policy: { allowedClients: [], allowAnonymous: true },
          accessTokenTtl: undefined,
          scopes: [],
        })
        await store().resources.create(a)
        await store().resources.create(b)
        await store().resources.create(resourceOf(other.id))
        const got = await store().resources.get(tenant.id, a.audience)
        assert.deepEqual(got, a)
        assert.ok(got)
        assertNumbers(got, ['createdAt', 'accessTokenTtl'])
        assert.deepEqual(await store().resources.get(tenant.id, b.audience), b)
        assert.deepEqual(
          await store().resources.list(tenant.id),
          [a, b].sort((x, y) => (x.audience < y.audience ? -1 : 1)),
        )
        assert.equal(await store().resources.get(other.id, a.audience), undefined)
      })

      it('update only the fields in the patch; accessTokenTtl or secretHash undefined clears it', async () => {
        const tenant = await newTenant()
        const resource = resourceOf(tenant.id)
        await store().resources.create(resource)
        const policy = {
          allowedClients: ['client-c'],
          allowAnonymous: true,
          authenticationModes: ['no' as const],
        }
        assert.equal(
          await store().resources.update(tenant.id, resource.audience, { policy, name: 'Renamed' }),
          true,
        )
        let expected: Resource = { ...resource, policy, name: 'Renamed' }
        assert.deepEqual(await store().resources.get(tenant.id, resource.audience), expected)

        assert.equal(
          await store().resources.update(tenant.id, resource.audience, { scopes: ['orders:read'] }),
          true,
        )
        expected = { ...expected, scopes: ['orders:read'] }
        assert.deepEqual(await store().resources.get(tenant.id, resource.audience), expected)

        assert.equal(
          await store().resources.update(tenant.id, resource.audience, { accessTokenTtl: undefined }),
          true,
        )
        expected = { ...expected, accessTokenTtl: undefined }
        assert.deepEqual(await store().resources.get(tenant.id, resource.audience), expected)

        assert.equal(await store().resources.update(tenant.id, resource.audience, {}), true)
        assert.deepEqual(await store().resources.get(tenant.id, resource.audience), expected)

        const secretHash = 'h'.repeat(43)
        assert.equal(await store().resources.update(tenant.id, resource.audience, { secretHash }), true)
        expected = { ...expected, secretHash }
        assert.deepEqual(await store().resources.get(tenant.id, resource.audience), expected)
        assert.equal(
          await store().resources.update(tenant.id, resource.audience, { secretHash: undefined }),
          true,
        )
        expected = { ...expected, secretHash: undefined }
        assert.deepEqual(await store().resources.get(tenant.id, resource.audience), expected)
        assert.equal(await store().resources.update(tenant.id, uid('missing'), { name: 'x' }), false)
        assert.equal(await store().resources.update(tenant.id, uid('missing'), {}), false)
      })

      it('delete once, and only in its tenant', async () => {
        const tenant = await newTenant()
        const other = await newTenant()
        const resource = resourceOf(tenant.id)
        await store().resources.create(resource)
        assert.equal(await store().resources.delete(other.id, resource.audience), false)
        assert.equal(await store().resources.delete(tenant.id, resource.audience), true)
        assert.equal(await store().resources.get(tenant.id, resource.audience), undefined)
        assert.equal(await store().resources.delete(tenant.id, resource.audience), false)
      })
    })

    describe('profiles', () => {
      it('create, get, touch and delete', async () => {
        const tenant = await newTenant()
        const other = await newTenant()
        const profile = profileOf(tenant.id, { kind: 'identified' })
        await store().profiles.create(profile)
        const got = await store().profiles.get(tenant.id, profile.id)
        assert.deepEqual(got, profile)
        assert.ok(got)
        assertNumbers(got, ['createdAt', 'lastActiveAt'])
        assert.equal(await store().profiles.get(other.id, profile.id), undefined)

        await store().profiles.touch(profile.id, LATER)
        assert.deepEqual(await store().profiles.get(tenant.id, profile.id), {
          ...profile,
          lastActiveAt: LATER,
        })

        assert.equal(await store().profiles.delete(other.id, profile.id), false)
        assert.equal(await store().profiles.delete(tenant.id, profile.id), true)
        assert.equal(await store().profiles.get(tenant.id, profile.id), undefined)
        assert.equal(await store().profiles.delete(tenant.id, profile.id), false)
      })

      it('deleting a profile removes its devices, grants and refresh tokens', async () => {
        const { tenant, profile } = await newProfile()
        const device = deviceOf(tenant.id, profile.id)
        await store().devices.create(device)
        const grant = grantOf(tenant.id, profile.id, { deviceId: device.id })
        await store().grants.create(grant)
        const token = refreshTokenOf(tenant.id, grant.id)
        await store().refreshTokens.create(token)

        assert.equal(await store().profiles.delete(tenant.id, profile.id), true)
        assert.equal(await store().devices.get(tenant.id, device.id), undefined)
        assert.equal(await store().grants.get(tenant.id, grant.id), undefined)
        assert.equal(await store().refreshTokens.get(token.tokenId), undefined)
        assert.ok(await store().tenants.get(tenant.id))
      })
    })

    describe('devices', () => {
      it('create and get round-trip every field', async () => {
        const { tenant, profile } = await newProfile()
        const a = deviceOf(tenant.id, profile.id)
        const b = deviceOf(tenant.id, profile.id, {
          hardwareKey: false,
          authenticationMode: 'no',
          revokedAt: LATER,
          createdAt: LATER,
        })
        await store().devices.create(a)
        await store().devices.create(b)
        const got = await store().devices.get(tenant.id, a.id)
        assert.deepEqual(got, a)
        assert.ok(got)
        assertNumbers(got, ['createdAt', 'lastSeenAt'])
        const gotB = await store().devices.get(tenant.id, b.id)
        assert.deepEqual(gotB, b)
        assert.ok(gotB)
        assertNumbers(gotB, ['createdAt', 'lastSeenAt', 'revokedAt'])
        assert.equal(await store().devices.get(uid('other'), a.id), undefined)
      })

      it('list by tenant, filtered by profile', async () => {
        const { tenant, profile } = await newProfile()
        const second = profileOf(tenant.id)
        await store().profiles.create(second)
        const { tenant: other, profile: otherProfile } = await newProfile()
        const mine = [deviceOf(tenant.id, profile.id), deviceOf(tenant.id, profile.id)]
        const theirs = [deviceOf(tenant.id, second.id)]
        for (const device of [...theirs, ...mine].reverse()) await store().devices.create(device)
        await store().devices.create(deviceOf(other.id, otherProfile.id))

        assert.deepEqual(await store().devices.list(tenant.id), [...mine, ...theirs])
        assert.deepEqual(await store().devices.list(tenant.id, { profileId: profile.id }), mine)
        assert.deepEqual(await store().devices.list(tenant.id, { profileId: second.id }), theirs)
        assert.deepEqual(await store().devices.list(tenant.id, { profileId: otherProfile.id }), [])
        assert.deepEqual(await store().devices.list(uid('missing')), [])
      })

      it('paginate with after and limit', async () => {
        const { tenant, profile } = await newProfile()
        const devices = Array.from({ length: 5 }, () => deviceOf(tenant.id, profile.id))
        for (const device of [...devices].reverse()) await store().devices.create(device)
        const ids = devices.map((d) => d.id)

        const page1 = await store().devices.list(tenant.id, { limit: 2 })
        assert.deepEqual(
          page1.map((d) => d.id),
          ids.slice(0, 2),
        )
        const page2 = await store().devices.list(tenant.id, { limit: 2, after: page1.at(-1)?.id })
        assert.deepEqual(
          page2.map((d) => d.id),
          ids.slice(2, 4),
        )
        const page3 = await store().devices.list(tenant.id, { limit: 2, after: page2.at(-1)?.id })
        assert.deepEqual(
          page3.map((d) => d.id),
          ids.slice(4),
        )
        assert.deepEqual(await store().devices.list(tenant.id, { limit: 2, after: page3.at(-1)?.id }), [])
        const filtered = await store().devices.list(tenant.id, {
          profileId: profile.id,
          after: ids[0],
          limit: 3,
        })
        assert.deepEqual(
          filtered.map((d) => d.id),
          ids.slice(1, 4),
        )
      })

      it('touch updates last seen', async () => {
        const { tenant, profile } = await newProfile()
        const device = deviceOf(tenant.id, profile.id)
        await store().devices.create(device)
        await store().devices.touch(device.id, LATER)
        assert.deepEqual(await store().devices.get(tenant.id, device.id), { ...device, lastSeenAt: LATER })
      })

      it('revoke only once, and only in its tenant', async () => {
        const { tenant, profile } = await newProfile()
        const device = deviceOf(tenant.id, profile.id)
        await store().devices.create(device)
        assert.equal(await store().devices.revoke(uid('other'), device.id, NOW + 1), false)
        assert.equal(await store().devices.revoke(tenant.id, device.id, NOW + 1), true)
        assert.equal(await store().devices.revoke(tenant.id, device.id, NOW + 2), false)
        assert.deepEqual(await store().devices.get(tenant.id, device.id), { ...device, revokedAt: NOW + 1 })
        assert.equal(await store().devices.revoke(tenant.id, uid('missing'), NOW), false)
      })

      it('findActive finds the profile’s unrevoked device with a key', async () => {
        const { tenant, profile } = await newProfile()
        const other = profileOf(tenant.id)
        await store().profiles.create(other)
        const device = deviceOf(tenant.id, profile.id)
        const revoked = deviceOf(tenant.id, profile.id, { jkt: 'revoked-key', revokedAt: NOW })
        for (const d of [device, revoked, deviceOf(tenant.id, other.id, { jkt: 'theirs' })])
          await store().devices.create(d)
        assert.deepEqual(await store().devices.findActive(tenant.id, profile.id, device.jkt), device)
        assert.equal(await store().devices.findActive(tenant.id, profile.id, 'revoked-key'), undefined)
        assert.equal(await store().devices.findActive(tenant.id, profile.id, 'theirs'), undefined)
        assert.equal(await store().devices.findActive(tenant.id, other.id, device.jkt), undefined)
        assert.equal(await store().devices.findActive(uid('other'), profile.id, device.jkt), undefined)
      })

      it('assign gives a device to another profile, only in its tenant', async () => {
        const { tenant, profile } = await newProfile()
        const person = profileOf(tenant.id)
        await store().profiles.create(person)
        const device = deviceOf(tenant.id, profile.id)
        await store().devices.create(device)
        assert.equal(await store().devices.assign(uid('other'), device.id, person.id), false)
        assert.equal(await store().devices.assign(tenant.id, uid('missing'), person.id), false)
        assert.equal(await store().devices.assign(tenant.id, device.id, person.id), true)
        assert.deepEqual(await store().devices.get(tenant.id, device.id), { ...device, profileId: person.id })
        assert.deepEqual(await store().devices.list(tenant.id, { profileId: profile.id }), [])
      })

      it('reject a device of a missing profile (foreign key)', async () => {
        const tenant = await newTenant()
        const device = deviceOf(tenant.id, uid('missing-profile'))
        await assert.rejects(store().devices.create(device))
        assert.equal(await store().devices.get(tenant.id, device.id), undefined)
        // The store still works after the failed statement.
        const profile = profileOf(tenant.id)
        await store().profiles.create(profile)
        await store().devices.create({ ...device, profileId: profile.id })
        assert.ok(await store().devices.get(tenant.id, device.id))
      })
    })

    describe('grants', () => {
      it('create and get round-trip every field', async () => {
        const { tenant, profile } = await newProfile()
        const device = deviceOf(tenant.id, profile.id)
        await store().devices.create(device)
        const bound = grantOf(tenant.id, profile.id, {
          deviceId: device.id,
          jkt: device.jkt,
          acr: '1',
          amr: ['pwd'],
        })
        const plain = grantOf(tenant.id, profile.id, { amr: [], revokedAt: NOW + 5, revokedReason: 'admin' })
        await store().grants.create(bound)
        await store().grants.create(plain)
        const got = await store().grants.get(tenant.id, bound.id)
        assert.deepEqual(got, bound)
        assert.ok(got)
        assertNumbers(got, ['createdAt', 'expiresAt'])
        const gotPlain = await store().grants.get(tenant.id, plain.id)
        assert.deepEqual(gotPlain, plain)
        assert.ok(gotPlain)
        assertNumbers(gotPlain, ['revokedAt'])
        assert.equal(await store().grants.get(uid('other'), bound.id), undefined)
      })

      it('status reads the profile, expiry and revocation of a family of this tenant', async () => {
        const { tenant, profile } = await newProfile()
        const active = grantOf(tenant.id, profile.id)
        const revoked = grantOf(tenant.id, profile.id, { revokedAt: NOW + 5, revokedReason: 'admin' })
        await store().grants.create(active)
        await store().grants.create(revoked)
        const status = await store().grants.status(tenant.id, active.id)
        assert.deepEqual(status, { profileId: profile.id, expiresAt: active.expiresAt, revokedAt: undefined })
        assert.ok(status)
        assertNumbers(status, ['expiresAt'])
        const revokedStatus = await store().grants.status(tenant.id, revoked.id)
        assert.deepEqual(revokedStatus, {
          profileId: profile.id,
          expiresAt: revoked.expiresAt,
          revokedAt: NOW + 5,
        })
        assert.ok(revokedStatus)
        assertNumbers(revokedStatus, ['revokedAt'])
        assert.equal(await store().grants.status(uid('other'), active.id), undefined)
        assert.equal(await store().grants.status(tenant.id, uid('missing')), undefined)
      })

      it('revoke returns true once', async () => {
        const { tenant, profile } = await newProfile()
        const grant = grantOf(tenant.id, profile.id)
        await store().grants.create(grant)
        assert.equal(await store().grants.revoke(uid('other'), grant.id, 'admin', NOW + 1), false)
        assert.equal(await store().grants.revoke(tenant.id, grant.id, 'revoked', NOW + 1), true)
        assert.equal(await store().grants.revoke(tenant.id, grant.id, 'admin', NOW + 2), false)
        assert.deepEqual(await store().grants.get(tenant.id, grant.id), {
          ...grant,
          revokedAt: NOW + 1,
          revokedReason: 'revoked',
        })
        assert.equal(await store().grants.revoke(tenant.id, uid('missing'), 'admin', NOW), false)
      })

      it('revokeForDevice revokes and counts only the device’s active grants', async () => {
        const { tenant, profile } = await newProfile()
        const device = deviceOf(tenant.id, profile.id)
        const otherDevice = deviceOf(tenant.id, profile.id)
        await store().devices.create(device)
        await store().devices.create(otherDevice)
        const active = [
          grantOf(tenant.id, profile.id, { deviceId: device.id }),
          grantOf(tenant.id, profile.id, { deviceId: device.id }),
        ]
        const alreadyRevoked = grantOf(tenant.id, profile.id, {
          deviceId: device.id,
          revokedAt: NOW,
          revokedReason: 'revoked',
        })
        const elsewhere = grantOf(tenant.id, profile.id, { deviceId: otherDevice.id })
        const deviceless = grantOf(tenant.id, profile.id)
        for (const grant of [...active, alreadyRevoked, elsewhere, deviceless])
          await store().grants.create(grant)

        assert.equal(
          await store().grants.revokeForDevice(uid('other'), device.id, 'device_revoked', NOW + 1),
          0,
        )
        assert.equal(await store().grants.revokeForDevice(tenant.id, device.id, 'device_revoked', NOW + 1), 2)
        assert.equal(await store().grants.revokeForDevice(tenant.id, device.id, 'device_revoked', NOW + 2), 0)
        for (const grant of active) {
          assert.deepEqual(await store().grants.get(tenant.id, grant.id), {
            ...grant,
            revokedAt: NOW + 1,
            revokedReason: 'device_revoked',
          })
        }
        assert.deepEqual(await store().grants.get(tenant.id, alreadyRevoked.id), alreadyRevoked)
        assert.deepEqual(await store().grants.get(tenant.id, elsewhere.id), elsewhere)
        assert.deepEqual(await store().grants.get(tenant.id, deviceless.id), deviceless)
      })

      it('reject a grant of a missing profile or device (foreign keys)', async () => {
        const { tenant, profile } = await newProfile()
        await assert.rejects(store().grants.create(grantOf(tenant.id, uid('missing-profile'))))
        await assert.rejects(
          store().grants.create(grantOf(tenant.id, profile.id, { deviceId: uid('missing-device') })),
        )
      })
    })

    describe('refresh tokens', () => {
      it('create and get', async () => {
        const { tenant, profile } = await newProfile()
        const grant = grantOf(tenant.id, profile.id)
        await store().grants.create(grant)
        const token = refreshTokenOf(tenant.id, grant.id)
        await store().refreshTokens.create(token)
        const got = await store().refreshTokens.get(token.tokenId)
        assert.deepEqual(got, token)
        assert.ok(got)
        assertNumbers(got, ['createdAt', 'expiresAt'])
        assert.equal(await store().refreshTokens.get(uid('missing')), undefined)
        await assert.rejects(store().refreshTokens.create(refreshTokenOf(tenant.id, uid('missing-grant'))))
      })

      it('markUsed returns true once, then false', async () => {
        const { tenant, profile } = await newProfile()
        const grant = grantOf(tenant.id, profile.id)
        await store().grants.create(grant)
        const token = refreshTokenOf(tenant.id, grant.id)
        await store().refreshTokens.create(token)
        assert.equal(await store().refreshTokens.markUsed(token.tokenId, NOW + 10), true)
        assert.equal(await store().refreshTokens.markUsed(token.tokenId, NOW + 20), false)
        const got = await store().refreshTokens.get(token.tokenId)
        assert.deepEqual(got, { ...token, usedAt: NOW + 10 })
        assert.ok(got)
        assertNumbers(got, ['usedAt'])
        assert.equal(await store().refreshTokens.markUsed(uid('missing'), NOW), false)
      })

      it('concurrent markUsed: exactly one wins', async () => {
        const { tenant, profile } = await newProfile()
        const grant = grantOf(tenant.id, profile.id)
        await store().grants.create(grant)
        const token = refreshTokenOf(tenant.id, grant.id)
        await store().refreshTokens.create(token)
        const results = await Promise.all([
          store().refreshTokens.markUsed(token.tokenId, NOW + 1),
          store().refreshTokens.markUsed(token.tokenId, NOW + 2),
        ])
        assert.equal(results.filter(Boolean).length, 1, `results: ${results}`)
        const usedAt = (await store().refreshTokens.get(token.tokenId))?.usedAt
        assert.equal(usedAt, results[0] ? NOW + 1 : NOW + 2)
      })

      it('concurrent markUsed in transactions: exactly one wins', async () => {
        const { tenant, profile } = await newProfile()
        const grant = grantOf(tenant.id, profile.id)
        await store().grants.create(grant)
        const token = refreshTokenOf(tenant.id, grant.id)
        await store().refreshTokens.create(token)
        const results = await Promise.all(
          [1, 2, 3].map((i) =>
            store().transaction((stores) => stores.refreshTokens.markUsed(token.tokenId, NOW + i)),
          ),
        )
        assert.equal(results.filter(Boolean).length, 1, `results: ${results}`)
      })

      it('deleteExpired deletes only tokens past their expiry, in batches', async () => {
        const { tenant, profile } = await newProfile()
        const grant = grantOf(tenant.id, profile.id)
        await store().grants.create(grant)
        const expired = [1, 2, 3].map(() => ({ ...refreshTokenOf(tenant.id, grant.id), expiresAt: NOW + 5 }))
        const live = refreshTokenOf(tenant.id, grant.id)
        for (const token of [...expired, live]) await store().refreshTokens.create(token)
        assert.equal(await store().refreshTokens.deleteExpired(NOW + 10, 2), 2)
        assert.equal(await store().refreshTokens.deleteExpired(NOW + 10, 2), 1)
        assert.equal(await store().refreshTokens.deleteExpired(NOW + 10, 2), 0)
        for (const token of expired) assert.equal(await store().refreshTokens.get(token.tokenId), undefined)
        assert.ok(await store().refreshTokens.get(live.tokenId))
      })
    })

    describe('signing keys', () => {
      it('listPublished returns the active key and retired keys still published, newest first', async () => {
        const tenant = await newTenant()
        const other = await newTenant()
        const active = signingKeyOf(tenant.id, { createdAt: NOW })
        const published = signingKeyOf(tenant.id, {
          status: 'retired',
          createdAt: NOW - 100,
          retiredAt: NOW,
          publishUntil: LATER,
        })
        const expired = signingKeyOf(tenant.id, {
          status: 'retired',
          createdAt: NOW - 200,
          retiredAt: NOW - 100,
          publishUntil: NOW - 1,
        })
        const endsNow = signingKeyOf(tenant.id, {
          status: 'retired',
          createdAt: NOW - 300,
          retiredAt: NOW - 200,
          publishUntil: NOW,
        })
        for (const key of [expired, published, endsNow, active]) await store().signingKeys.insert(key)
        await store().signingKeys.insert(signingKeyOf(other.id))

        const listed = await store().signingKeys.listPublished(tenant.id, NOW)
        assert.deepEqual(listed, [active, published])
        for (const key of listed) assertNumbers(key, ['createdAt'])
        assertNumbers(listed[1] ?? {}, ['retiredAt', 'publishUntil'])
        assert.deepEqual(await store().signingKeys.listPublished(tenant.id, NOW - 1), [
          active,
          published,
          endsNow,
        ])
        assert.deepEqual(await store().signingKeys.listPublished(tenant.id, LATER), [active])
        assert.deepEqual(await store().signingKeys.listPublished(uid('missing'), NOW), [])
      })

      it('retireActive retires the tenant’s active keys and keeps them published until publishUntil', async () => {
        const tenant = await newTenant()
        const other = await newTenant()
        const old = signingKeyOf(tenant.id, { createdAt: NOW - 10 })
        const otherKey = signingKeyOf(other.id)
        await store().signingKeys.insert(old)
        await store().signingKeys.insert(otherKey)

        assert.equal(
          await store().signingKeys.retireActive(tenant.id, { retiredAt: NOW, publishUntil: NOW + 3600 }),
          1,
        )
        assert.equal(
          await store().signingKeys.retireActive(tenant.id, { retiredAt: NOW, publishUntil: NOW + 3600 }),
          0,
        )
        const retired: SigningKeyRecord = {
          ...old,
          status: 'retired',
          retiredAt: NOW,
          publishUntil: NOW + 3600,
        }
        assert.deepEqual(await store().signingKeys.listPublished(tenant.id, NOW), [retired])

        const next = signingKeyOf(tenant.id, { createdAt: NOW })
        await store().signingKeys.insert(next)
        assert.deepEqual(await store().signingKeys.listPublished(tenant.id, NOW), [next, retired])
        assert.deepEqual(await store().signingKeys.listPublished(tenant.id, NOW + 3600), [next])
        assert.deepEqual(await store().signingKeys.listPublished(other.id, NOW), [otherKey])
      })

      it('deleteUnpublished deletes only retired keys past publishUntil', async () => {
        const tenant = await newTenant()
        // Far in the past: no other test's keys are unpublished at this time.
        const at = 1_000
        const active = signingKeyOf(tenant.id, { createdAt: 2 })
        const stillPublished = signingKeyOf(tenant.id, {
          status: 'retired',
          createdAt: 1,
          retiredAt: 2,
          publishUntil: at + 1,
        })
        const gone = [
          signingKeyOf(tenant.id, { status: 'retired', createdAt: 1, retiredAt: 2, publishUntil: at }),
          signingKeyOf(tenant.id, { status: 'retired', createdAt: 1, retiredAt: 2, publishUntil: at - 1 }),
        ]
        for (const key of [active, stillPublished, ...gone]) await store().signingKeys.insert(key)
        assert.deepEqual(await store().signingKeys.listPublished(tenant.id, at - 2), [
          active,
          ...[stillPublished, ...gone].sort((x, y) => (x.kid < y.kid ? -1 : 1)),
        ])

        assert.equal(await store().signingKeys.deleteUnpublished(at), 2)
        assert.equal(await store().signingKeys.deleteUnpublished(at), 0)
        // Listed as of a time when every key was published: the deleted ones are gone for good.
        assert.deepEqual(await store().signingKeys.listPublished(tenant.id, at - 2), [active, stillPublished])
      })
    })

    describe('profile attributes', () => {
      const attributeOf = (name: string, value: string, updatedAt = NOW) => ({ name, value, updatedAt })

      it('put, get and list round-trip the JSON text; list is in code-point order; put replaces', async () => {
        const { tenant, profile } = await newProfile()
        const values = {
          b: '{"nested":{"list":[1,"two",null,true]}}',
          a: '"Grüße 🚀"',
          Z: 'null',
          _x: '-0.5',
        }
        for (const [name, value] of Object.entries(values))
          await store().profileAttributes.put(tenant.id, profile.id, attributeOf(name, value))
        const got = await store().profileAttributes.get(tenant.id, profile.id, 'a')
        assert.deepEqual(got, attributeOf('a', values.a))
        assert.ok(got)
        assertNumbers(got, ['updatedAt'])
        assert.deepEqual(
          (await store().profileAttributes.list(tenant.id, profile.id)).map((a) => [a.name, a.value]),
          [
            ['Z', values.Z],
            ['_x', values._x],
            ['a', values.a],
            ['b', values.b],
          ],
        )

        await store().profileAttributes.put(tenant.id, profile.id, attributeOf('a', '[]', LATER))
        assert.deepEqual(
          await store().profileAttributes.get(tenant.id, profile.id, 'a'),
          attributeOf('a', '[]', LATER),
        )
        assert.equal((await store().profileAttributes.list(tenant.id, profile.id)).length, 4)
        assert.equal(await store().profileAttributes.get(tenant.id, profile.id, 'missing'), undefined)
      })

      it('usage counts the attributes and the UTF-8 bytes of their values', async () => {
        const { tenant, profile } = await newProfile()
        assert.deepEqual(await store().profileAttributes.usage(tenant.id, profile.id), { count: 0, bytes: 0 })
        await store().profileAttributes.put(tenant.id, profile.id, attributeOf('word', '"é"'))
        await store().profileAttributes.put(tenant.id, profile.id, attributeOf('number', '123'))
        assert.deepEqual(await store().profileAttributes.usage(tenant.id, profile.id), { count: 2, bytes: 7 })
        await store().profileAttributes.put(tenant.id, profile.id, attributeOf('word', '"🚀🚀"'))
        assert.deepEqual(await store().profileAttributes.usage(tenant.id, profile.id), {
          count: 2,
          bytes: 13,
        })
      })

      it('delete once, deleteAll counts, and both only in their tenant and profile', async () => {
        const { tenant, profile } = await newProfile()
        const other = await newProfile()
        const sibling = profileOf(tenant.id)
        await store().profiles.create(sibling)
        for (const name of ['a', 'b', 'c'])
          await store().profileAttributes.put(tenant.id, profile.id, attributeOf(name, '1'))
        await store().profileAttributes.put(tenant.id, sibling.id, attributeOf('a', '2'))
        await store().profileAttributes.put(other.tenant.id, other.profile.id, attributeOf('a', '3'))

        assert.equal(await store().profileAttributes.delete(other.tenant.id, profile.id, 'a'), false)
        assert.equal(await store().profileAttributes.get(other.tenant.id, profile.id, 'a'), undefined)
        assert.deepEqual(await store().profileAttributes.list(other.tenant.id, profile.id), [])
        assert.deepEqual(await store().profileAttributes.usage(other.tenant.id, profile.id), {
          count: 0,
          bytes: 0,
        })
        assert.equal(await store().profileAttributes.deleteAll(other.tenant.id, profile.id), 0)

        assert.equal(await store().profileAttributes.delete(tenant.id, profile.id, 'a'), true)
        assert.equal(await store().profileAttributes.delete(tenant.id, profile.id, 'a'), false)
        assert.equal(await store().profileAttributes.deleteAll(tenant.id, profile.id), 2)
        assert.deepEqual(await store().profileAttributes.list(tenant.id, profile.id), [])
        assert.equal(await store().profileAttributes.deleteAll(tenant.id, profile.id), 0)
        assert.deepEqual(
          await store().profileAttributes.get(tenant.id, sibling.id, 'a'),
          attributeOf('a', '2'),
        )
        assert.deepEqual(
          await store().profileAttributes.get(other.tenant.id, other.profile.id, 'a'),
          attributeOf('a', '3'),
        )
      })

      it('reject an attribute of a missing profile (foreign key)', async () => {
        const tenant = await newTenant()
        const profileId = uid('missing-profile')
        await assert.rejects(store().profileAttributes.put(tenant.id, profileId, attributeOf('a', '1')))
        assert.deepEqual(await store().profileAttributes.list(tenant.id, profileId), [])
      })

      it('are deleted with their profile, and with their tenant', async () => {
        const { tenant, profile } = await newProfile()
        const second = profileOf(tenant.id)
        await store().profiles.create(second)
        await store().profileAttributes.put(tenant.id, profile.id, attributeOf('a', '1'))
        await store().profileAttributes.put(tenant.id, second.id, attributeOf('a', '2'))
        assert.equal(await store().profiles.delete(tenant.id, profile.id), true)
        assert.deepEqual(await store().profileAttributes.list(tenant.id, profile.id), [])
        assert.equal((await store().profileAttributes.list(tenant.id, second.id)).length, 1)
        assert.equal(await store().tenants.delete(tenant.id), true)
        assert.deepEqual(await store().profileAttributes.list(tenant.id, second.id), [])
      })

      it('roll back with the transaction', async () => {
        const { tenant, profile } = await newProfile()
        await store().profileAttributes.put(tenant.id, profile.id, attributeOf('kept', '1'))
        const failure = new Error('work failed after writing')
        await assert.rejects(
          store().transaction(async (stores) => {
            await stores.profileAttributes.put(tenant.id, profile.id, attributeOf('added', '2'))
            await stores.profileAttributes.delete(tenant.id, profile.id, 'kept')
            throw failure
          }),
          (error) => error === failure,
        )
        assert.deepEqual(await store().profileAttributes.list(tenant.id, profile.id), [
          attributeOf('kept', '1'),
        ])
      })
    })

    describe('transactions', () => {
      it('two transactions locking the same rows in opposite order both complete', async () => {
        const { tenant, profile: first } = await newProfile()
        const second = profileOf(tenant.id)
        await store().profiles.create(second)
        // Each transaction locks one profile, waits until the other has locked its own (or, where
        // transactions do not overlap, a short while), then asks for the other's: on PostgreSQL
        // one of them is aborted as a deadlock and must be run again.
        const locked = [Promise.withResolvers<void>(), Promise.withResolvers<void>()]
        let runs = 0
        const lockBoth = (mine: number, ids: [string, string], at: number) =>
          store().transaction(async (stores) => {
            runs++
            await stores.profiles.touch(ids[0], at)
            locked[mine]!.resolve()
            await Promise.race([locked[1 - mine]!.promise, setTimeout(300)])
            await stores.profiles.touch(ids[1], at)
          })
        await Promise.all([
          lockBoth(0, [first.id, second.id], NOW + 10),
          lockBoth(1, [second.id, first.id], NOW + 20),
        ])
        assert.ok(runs >= 2)
        for (const id of [first.id, second.id]) {
          const stored = await store().profiles.get(tenant.id, id)
          assert.ok(stored?.lastActiveAt === NOW + 10 || stored?.lastActiveAt === NOW + 20)
        }
      })
    })

    describe('profile retention', () => {
      /** A profile with two devices, three grants (one without a device), four refresh tokens and two attributes. */
      async function populated(tenantId: string, overrides: Partial<Profile> = {}): Promise<Profile> {
        const profile = profileOf(tenantId, overrides)
        await store().profiles.create(profile)
        const devices = [deviceOf(tenantId, profile.id), deviceOf(tenantId, profile.id)]
        for (const device of devices) await store().devices.create(device)
        const grants = [
          grantOf(tenantId, profile.id, { deviceId: devices[0]!.id }),
          grantOf(tenantId, profile.id, { deviceId: devices[1]!.id }),
          grantOf(tenantId, profile.id),
        ]
        for (const grant of grants) await store().grants.create(grant)
        for (const grant of [grants[0]!, grants[0]!, grants[1]!, grants[2]!])
          await store().refreshTokens.create(refreshTokenOf(tenantId, grant.id))
        await store().profileAttributes.put(tenantId, profile.id, { name: 'a', value: '1', updatedAt: NOW })
        await store().profileAttributes.put(tenantId, profile.id, { name: 'b', value: '2', updatedAt: NOW })
        return profile
      }
      const owns = { profiles: 1, devices: 2, grants: 3, refreshTokens: 4, attributes: 2 }
      const nothing = { profiles: 0, devices: 0, grants: 0, refreshTokens: 0, attributes: 0 }

      it('countInactive and claimInactive select anonymous profiles last active before a time, least recent first', async () => {
        const tenant = await newTenant()
        const other = await newTenant()
        const oldest = profileOf(tenant.id, { lastActiveAt: NOW - 300 })
        const older = profileOf(tenant.id, { lastActiveAt: NOW - 200 })
        const atTheLimit = profileOf(tenant.id, { lastActiveAt: NOW - 100 })
        const recent = profileOf(tenant.id, { lastActiveAt: NOW })
        const identified = profileOf(tenant.id, { kind: 'identified', lastActiveAt: NOW - 1000 })
        const elsewhere = profileOf(other.id, { lastActiveAt: NOW - 1000 })
        for (const profile of [recent, older, identified, atTheLimit, oldest, elsewhere])
          await store().profiles.create(profile)

        assert.equal(await store().profileRetention.countInactive(tenant.id, NOW - 100), 2)
        assert.equal(await store().profileRetention.countInactive(tenant.id, NOW + 1), 4)
        assert.equal(await store().profileRetention.countInactive(uid('missing'), NOW), 0)
        assert.deepEqual(await store().profileRetention.claimInactive(tenant.id, NOW - 100, 1), [oldest.id])
        assert.deepEqual(await store().profileRetention.claimInactive(tenant.id, NOW - 100, 10), [
          oldest.id,
          older.id,
        ])
        assert.deepEqual(await store().profileRetention.claimInactive(tenant.id, NOW - 300, 10), [])
        // Claiming outside a transaction changes nothing.
        assert.equal(await store().profileRetention.countInactive(tenant.id, NOW - 100), 2)
      })

      it('footprint counts what deleting would take, by ids or by inactivity, and deletes nothing', async () => {
        const tenant = await newTenant()
        const inactive = await populated(tenant.id, { lastActiveAt: NOW - 500 })
        const active = await populated(tenant.id)
        const identified = await populated(tenant.id, { kind: 'identified', lastActiveAt: NOW - 500 })

        assert.deepEqual(await store().profileRetention.footprint(tenant.id, { ids: [inactive.id] }), owns)
        assert.deepEqual(
          await store().profileRetention.footprint(tenant.id, { ids: [inactive.id, active.id] }),
          {
            profiles: 2,
            devices: 4,
            grants: 6,
            refreshTokens: 8,
            attributes: 4,
          },
        )
        assert.deepEqual(await store().profileRetention.footprint(tenant.id, { ids: [] }), nothing)
        assert.deepEqual(
          await store().profileRetention.footprint(uid('other'), { ids: [inactive.id] }),
          nothing,
        )
        assert.deepEqual(
          await store().profileRetention.footprint(tenant.id, { inactiveBefore: NOW - 100 }),
          owns,
        )
        assert.deepEqual(
          await store().profileRetention.footprint(tenant.id, { inactiveBefore: NOW - 500 }),
          nothing,
        )
        for (const profile of [inactive, active, identified])
          assert.ok(await store().profiles.get(tenant.id, profile.id))
      })

      it('deleteMany deletes the profiles with everything they own, only in their tenant', async () => {
        const tenant = await newTenant()
        const doomed = [await populated(tenant.id), await populated(tenant.id)]
        const kept = await populated(tenant.id)
        const ids = doomed.map((p) => p.id)
        assert.equal(await store().profileRetention.deleteMany(uid('other'), ids), 0)
        assert.equal(await store().profileRetention.deleteMany(tenant.id, []), 0)
        assert.equal(await store().profileRetention.deleteMany(tenant.id, ids), 2)
        assert.deepEqual(await store().profileRetention.footprint(tenant.id, { ids }), nothing)
        for (const id of ids) {
          assert.equal(await store().profiles.get(tenant.id, id), undefined)
          assert.deepEqual(await store().devices.list(tenant.id, { profileId: id }), [])
          assert.deepEqual(await store().profileAttributes.list(tenant.id, id), [])
        }
        assert.deepEqual(await store().profileRetention.footprint(tenant.id, { ids: [kept.id] }), owns)
      })

      it('concurrent claim-and-delete transactions delete each profile once', async () => {
        const tenant = await newTenant()
        for (let i = 0; i < 5; i++) await populated(tenant.id, { lastActiveAt: NOW - 1000 + i })
        const sweeps = await Promise.all(
          [1, 2, 3].map(() =>
            store().transaction(async (stores) => {
              const ids = await stores.profileRetention.claimInactive(tenant.id, NOW, 2)
              const footprint = await stores.profileRetention.footprint(tenant.id, { ids })
              assert.equal(await stores.profileRetention.deleteMany(tenant.id, ids), ids.length)
              return { ids, footprint }
            }),
          ),
        )
        const ids = sweeps.flatMap((sweep) => sweep.ids)
        assert.equal(new Set(ids).size, ids.length, `claimed twice: ${ids}`)
        assert.ok(ids.length <= 5)
        assert.equal(
          sweeps.reduce((sum, sweep) => sum + sweep.footprint.refreshTokens, 0),
          ids.length * owns.refreshTokens,
        )
        assert.equal(await store().profileRetention.countInactive(tenant.id, NOW), 5 - ids.length)
      })
    })

    describe('identities', () => {
      function identityOf(tenantId: string, profileId: string, overrides: Partial<Identity> = {}): Identity {
        return {
          id: uid('identity'),
          tenantId,
          provider: 'local',
          subject: `${uid('person')}@example.com`,
          profileId,
          createdAt: NOW,
          ...overrides,
        }
      }

      it('create once per tenant, provider and subject; find and list round-trip', async () => {
        const { tenant, profile } = await newProfile()
        const other = await newProfile()
        const identity = identityOf(tenant.id, profile.id)
        assert.equal(await store().identities.createIfAbsent(identity), true)
        assert.deepEqual(await store().identities.find(tenant.id, 'local', identity.subject), identity)
        assertNumbers((await store().identities.find(tenant.id, 'local', identity.subject))!, ['createdAt'])

        // The same subject again, even for another profile: refused, the first link stays.
        const duplicate = identityOf(tenant.id, other.profile.id, { subject: identity.subject })
        assert.equal(await store().identities.createIfAbsent(duplicate), false)
        assert.deepEqual(await store().identities.find(tenant.id, 'local', identity.subject), identity)
        // Another provider, or another tenant, is another identity.
        const passkey = identityOf(tenant.id, profile.id, { provider: 'passkey', subject: identity.subject })
        assert.equal(await store().identities.createIfAbsent(passkey), true)
        const elsewhere = identityOf(other.tenant.id, other.profile.id, { subject: identity.subject })
        assert.equal(await store().identities.createIfAbsent(elsewhere), true)

        assert.deepEqual(await store().identities.listForProfile(tenant.id, profile.id), [identity, passkey])
        assert.deepEqual(await store().identities.listForProfile(other.tenant.id, profile.id), [])
        assert.equal(await store().identities.find(tenant.id, 'oidc:google', identity.subject), undefined)

        // Delete takes one identity: not the same subject of another provider or tenant.
        assert.equal(await store().identities.delete(tenant.id, 'passkey', identity.subject), true)
        assert.equal(await store().identities.delete(tenant.id, 'passkey', identity.subject), false)
        assert.deepEqual(await store().identities.listForProfile(tenant.id, profile.id), [identity])
        assert.deepEqual(await store().identities.find(other.tenant.id, 'local', identity.subject), elsewhere)
      })

      it('of two transactions linking one subject at once, exactly one wins; the other still commits', async () => {
        const { tenant, profile } = await newProfile()
        const other = await newProfile()
        const subject = `${uid('race')}@example.com`
        const results = await Promise.all(
          [profile.id, other.profile.id].map((profileId) =>
            store().transaction(async (stores) => {
              const inserted = await stores.identities.createIfAbsent(
                identityOf(tenant.id, profileId, { subject }),
              )
              await stores.profiles.touch(profileId, LATER)
              return inserted
            }),
          ),
        )
        assert.deepEqual([...results].sort(), [false, true])
        const winner = results[0] ? profile.id : other.profile.id
        assert.equal((await store().identities.find(tenant.id, 'local', subject))?.profileId, winner)
        assert.equal((await store().profiles.get(tenant.id, profile.id))?.lastActiveAt, LATER)
        assert.equal((await store().profiles.get(other.tenant.id, other.profile.id))?.lastActiveAt, LATER)
      })

      it('go with their profile', async () => {
        const { tenant, profile } = await newProfile()
        const identity = identityOf(tenant.id, profile.id)
        await store().identities.createIfAbsent(identity)
        await store().profiles.delete(tenant.id, profile.id)
        assert.equal(await store().identities.find(tenant.id, 'local', identity.subject), undefined)
      })
    })

    describe('profile attachment', () => {
      it('turns an anonymous profile identified once, recording when', async () => {
        const { tenant, profile } = await newProfile()
        const other = await newTenant()
        assert.equal(await store().profiles.attach(other.id, profile.id, LATER), false)
        assert.equal(await store().profiles.attach(tenant.id, profile.id, LATER), true)
        const attached = await store().profiles.get(tenant.id, profile.id)
        assert.deepEqual(attached, {
          ...profile,
          kind: 'identified',
          attachedAt: LATER,
          lastActiveAt: LATER,
        })
        assertNumbers(attached!, ['attachedAt'])
        assert.equal(await store().profiles.attach(tenant.id, profile.id, LATER + 1), false)
        assert.equal((await store().profiles.get(tenant.id, profile.id))?.attachedAt, LATER)
        assert.equal(await store().profiles.attach(tenant.id, uid('missing'), LATER), false)
      })

      it('never attaches an identified profile', async () => {
        const tenant = await newTenant()
        const profile = profileOf(tenant.id, { kind: 'identified' })
        await store().profiles.create(profile)
        assert.equal(await store().profiles.attach(tenant.id, profile.id, LATER), false)
      })

      it('revokes every active grant of a profile, and only those', async () => {
        const { tenant, profile } = await newProfile()
        const other = await newProfile()
        const active = [grantOf(tenant.id, profile.id), grantOf(tenant.id, profile.id)]
        const revoked = grantOf(tenant.id, profile.id, { revokedAt: NOW, revokedReason: 'revoked' })
        const others = grantOf(other.tenant.id, other.profile.id)
        for (const grant of [...active, revoked, others]) await store().grants.create(grant)
        assert.equal(
          await store().grants.revokeForProfile(other.tenant.id, profile.id, 'profile_attached', LATER),
          0,
        )
        assert.equal(
          await store().grants.revokeForProfile(tenant.id, profile.id, 'profile_attached', LATER),
          2,
        )
        for (const grant of active) {
          const got = await store().grants.get(tenant.id, grant.id)
          assert.equal(got?.revokedAt, LATER)
          assert.equal(got?.revokedReason, 'profile_attached')
        }
        assert.deepEqual(await store().grants.get(tenant.id, revoked.id), revoked)
        assert.deepEqual(await store().grants.get(other.tenant.id, others.id), others)
      })
    })

    describe('local accounts', () => {
      it('create once per tenant and email, and get round-trips', async () => {
        const tenant = await newTenant()
        const other = await newTenant()
        const account: LocalAccount = {
          tenantId: tenant.id,
          email: `${uid('ann')}@example.com`,
          passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
          createdAt: NOW,
          updatedAt: LATER,
        }
        assert.equal(await store().localAccounts.createIfAbsent(account), true)
        assert.deepEqual(await store().localAccounts.get(tenant.id, account.email), account)
        assertNumbers((await store().localAccounts.get(tenant.id, account.email))!, [
          'createdAt',
          'updatedAt',
        ])
        assert.equal(await store().localAccounts.createIfAbsent({ ...account, passwordHash: 'other' }), false)
        assert.equal(
          (await store().localAccounts.get(tenant.id, account.email))?.passwordHash,
          account.passwordHash,
        )
        assert.equal(await store().localAccounts.get(other.id, account.email), undefined)
        assert.equal(await store().localAccounts.createIfAbsent({ ...account, tenantId: other.id }), true)
      })
    })

    describe('passkey credentials', () => {
      /** A new credential of a new user handle in the tenant, made at NOW and not used yet. */
      const newCredential = (
        tenantId: string,
        fields: Partial<PasskeyCredential> = {},
      ): PasskeyCredential => ({
        tenantId,
        credentialId: uid('cred'),
        userHandle: uid('handle'),
        publicKey: 'pQECAyYgASFYIA',
        counter: 0,
        transports: [],
        createdAt: NOW,
        lastUsedAt: undefined,
        ...fields,
      })

      it('create once per tenant and credential id, get round-trips, and record their use', async () => {
        const tenant = await newTenant()
        const other = await newTenant()
        const credential = newCredential(tenant.id, { transports: ['internal', 'hybrid'] })
        assert.equal(await store().passkeyCredentials.createIfAbsent(credential), true)
        assert.deepEqual(await store().passkeyCredentials.get(tenant.id, credential.credentialId), credential)
        assert.equal(
          await store().passkeyCredentials.createIfAbsent({ ...credential, userHandle: 'other' }),
          false,
        )
        assert.equal(await store().passkeyCredentials.get(other.id, credential.credentialId), undefined)
        await store().passkeyCredentials.recordUse(tenant.id, credential.credentialId, {
          counter: 7,
          usedAt: LATER,
        })
        const used = await store().passkeyCredentials.get(tenant.id, credential.credentialId)
        assert.deepEqual(used, { ...credential, counter: 7, lastUsedAt: LATER })
        assertNumbers(used!, ['counter', 'createdAt', 'lastUsedAt'])
      })

      it('keep their name, AAGUID and device type, and are renamed and unnamed', async () => {
        const tenant = await newTenant()
        const other = await newTenant()
        const credential = newCredential(tenant.id, {
          lastUsedAt: NOW,
          name: 'Phone',
          aaguid: 'ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4',
          deviceType: 'multi_device',
        })
        const passkeys = store().passkeyCredentials
        assert.equal(await passkeys.createIfAbsent(credential), true)
        assert.deepEqual(await passkeys.get(tenant.id, credential.credentialId), credential)

        assert.equal(await passkeys.rename(tenant.id, credential.credentialId, 'Work phone ✓'), true)
        assert.deepEqual(await passkeys.get(tenant.id, credential.credentialId), {
          ...credential,
          name: 'Work phone ✓',
        })
        assert.equal(await passkeys.rename(tenant.id, credential.credentialId, undefined), true)
        const { name: _, ...unnamed } = credential
        assert.deepEqual(await passkeys.get(tenant.id, credential.credentialId), unnamed)
        assert.equal(await passkeys.rename(other.id, credential.credentialId, 'Stolen'), false)
        assert.equal(await passkeys.rename(tenant.id, uid('cred'), 'Nobody'), false)
        assert.deepEqual(await passkeys.get(tenant.id, credential.credentialId), unnamed)
      })

      it('list by user handles, oldest first, and delete one', async () => {
        const tenant = await newTenant()
        const [first, second] = [uid('handle'), uid('handle')]
        const credentialOf = (userHandle: string, createdAt: number) =>
          newCredential(tenant.id, { userHandle, createdAt })
        const [newer, older, another] = [
          credentialOf(first, LATER),
          credentialOf(first, NOW),
          credentialOf(second, NOW),
        ]
        for (const credential of [newer, older, another])
          assert.equal(await store().passkeyCredentials.createIfAbsent(credential), true)
        assert.deepEqual(await store().passkeyCredentials.listForUserHandles(tenant.id, [first]), [
          older,
          newer,
        ])
        assert.deepEqual(await store().passkeyCredentials.listForUserHandles(tenant.id, []), [])
        assert.equal(
          (await store().passkeyCredentials.listForUserHandles(tenant.id, [first, second])).length,
          3,
        )
        assert.equal(await store().passkeyCredentials.delete(tenant.id, older.credentialId), true)
        assert.equal(await store().passkeyCredentials.delete(tenant.id, older.credentialId), false)
        assert.deepEqual(await store().passkeyCredentials.listForUserHandles(tenant.id, [first]), [newer])
      })
    })

    describe('authorization codes', () => {
      function codeOf(
        tenantId: string,
        overrides: Partial<AuthorizationCodeRecord> = {},
      ): AuthorizationCodeRecord {
        return {
          codeId: uid('code'),
          codeHash: 'Y29kZS1oYXNo',
          tenantId,
          clientId: 'mobile',
          redirectUri: 'https://app.example/callback?x=1',
          scope: 'openid profile',
          codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
          codeChallengeMethod: 'S256',
          dpopJkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs',
          provider: 'local',
          subject: 'ann@example.com',
          acr: '1',
          amr: ['pwd'],
          authTime: NOW,
          anonymousProfileId: 'profile-1',
          anonymousGrantId: 'grant-1',
          createdAt: NOW,
          expiresAt: LATER,
          usedAt: undefined,
          grantId: undefined,
          ...overrides,
        }
      }

      it('create and get round-trip every field, with and without the optional ones', async () => {
        const tenant = await newTenant()
        const full = codeOf(tenant.id)
        const bare = codeOf(tenant.id, {
          codeChallenge: undefined,
          codeChallengeMethod: undefined,
          dpopJkt: undefined,
          anonymousProfileId: undefined,
          anonymousGrantId: undefined,
        })
        for (const code of [full, bare]) {
          await store().authorizationCodes.create(code)
          const got = await store().authorizationCodes.get(code.codeId)
          assert.deepEqual(got, code)
          assertNumbers(got!, ['authTime', 'createdAt', 'expiresAt'])
        }
        assert.equal(await store().authorizationCodes.get(uid('missing')), undefined)
      })

      it('mark a code used once, with the grant it made', async () => {
        const tenant = await newTenant()
        const code = codeOf(tenant.id)
        await store().authorizationCodes.create(code)
        assert.equal(await store().authorizationCodes.markUsed(code.codeId, LATER, 'grant-a'), true)
        assert.equal(await store().authorizationCodes.markUsed(code.codeId, LATER, 'grant-b'), false)
        assert.deepEqual(await store().authorizationCodes.get(code.codeId), {
          ...code,
          usedAt: LATER,
          grantId: 'grant-a',
        })
      })

      it('let one of two concurrent redemptions win', async () => {
        const tenant = await newTenant()
        const code = codeOf(tenant.id)
        await store().authorizationCodes.create(code)
        const results = await Promise.all(
          ['grant-a', 'grant-b'].map((grantId) =>
            store().transaction((stores) => stores.authorizationCodes.markUsed(code.codeId, LATER, grantId)),
          ),
        )
        assert.deepEqual([...results].sort(), [false, true])
      })

      it('delete expired codes in batches', async () => {
        const tenant = await newTenant()
        const expired = [
          codeOf(tenant.id, { expiresAt: NOW - 10 }),
          codeOf(tenant.id, { expiresAt: NOW - 5 }),
        ]
        const live = codeOf(tenant.id, { expiresAt: NOW + 60 })
        for (const code of [...expired, live]) await store().authorizationCodes.create(code)
        let deleted = 0
        for (let batch = 1; batch > 0; deleted += batch)
          batch = await store().authorizationCodes.deleteExpired(NOW, 1)
        assert.ok(deleted >= 2)
        for (const code of expired) assert.equal(await store().authorizationCodes.get(code.codeId), undefined)
        assert.deepEqual(await store().authorizationCodes.get(live.codeId), live)
      })
    })

    describe('cascade', () => {
      it('deleting a tenant removes everything it owns', async () => {
        const { tenant, profile } = await newProfile()
        const other = await newProfile()
        const client = clientOf(tenant.id)
        const resource = resourceOf(tenant.id)
        const device = deviceOf(tenant.id, profile.id)
        const key = signingKeyOf(tenant.id)
        await store().clients.create(client)
        await store().resources.create(resource)
        await store().devices.create(device)
        await store().signingKeys.insert(key)
        const grant = grantOf(tenant.id, profile.id, { deviceId: device.id })
        await store().grants.create(grant)
        const token = refreshTokenOf(tenant.id, grant.id)
        await store().refreshTokens.create(token)
        // The other tenant's data must survive.
        const otherClient = clientOf(other.tenant.id, { clientId: client.clientId })
        await store().clients.create(otherClient)
        const otherDevice = deviceOf(other.tenant.id, other.profile.id)
        await store().devices.create(otherDevice)

        assert.equal(await store().tenants.delete(tenant.id), true)

        assert.equal(await store().tenants.get(tenant.id), undefined)
        assert.equal(await store().clients.get(tenant.id, client.clientId), undefined)
        assert.deepEqual(await store().clients.list(tenant.id), [])
        assert.equal(await store().resources.get(tenant.id, resource.audience), undefined)
        assert.deepEqual(await store().resources.list(tenant.id), [])
        assert.equal(await store().profiles.get(tenant.id, profile.id), undefined)
        assert.equal(await store().devices.get(tenant.id, device.id), undefined)
        assert.deepEqual(await store().devices.list(tenant.id), [])
        assert.equal(await store().grants.get(tenant.id, grant.id), undefined)
        assert.equal(await store().refreshTokens.get(token.tokenId), undefined)
        assert.deepEqual(await store().signingKeys.listPublished(tenant.id, NOW), [])

        assert.deepEqual(await store().clients.get(other.tenant.id, client.clientId), otherClient)
        assert.deepEqual(await store().profiles.get(other.tenant.id, other.profile.id), other.profile)
        assert.deepEqual(await store().devices.get(other.tenant.id, otherDevice.id), otherDevice)
      })
    })

    describe('transactions', () => {
      it('commit the work and return its result', async () => {
        const tenant = tenantOf()
        const profile = profileOf(tenant.id)
        const device = deviceOf(tenant.id, profile.id)
        const result = await store().transaction(async (stores) => {
          await stores.tenants.create(tenant)
          await stores.profiles.create(profile)
          await stores.devices.create(device)
          // Reads inside the transaction see its writes.
          assert.deepEqual(await stores.devices.get(tenant.id, device.id), device)
          return 'done'
        })
        assert.equal(result, 'done')
        assert.deepEqual(await store().tenants.get(tenant.id), tenant)
        assert.deepEqual(await store().profiles.get(tenant.id, profile.id), profile)
        assert.deepEqual(await store().devices.get(tenant.id, device.id), device)
      })

      it('roll back every store’s writes when the work throws', async () => {
        const existing = await newTenant()
        const existingClient = clientOf(existing.id)
        await store().clients.create(existingClient)

        const tenant = tenantOf()
        const client = clientOf(tenant.id)
        const resource = resourceOf(tenant.id)
        const profile = profileOf(tenant.id)
        const device = deviceOf(tenant.id, profile.id)
        const grant = grantOf(tenant.id, profile.id, { deviceId: device.id })
        const token = refreshTokenOf(tenant.id, grant.id)
        const key = signingKeyOf(tenant.id)
        const failure = new Error('work failed after writing')

        await assert.rejects(
          store().transaction(async (stores) => {
            await stores.tenants.create(tenant)
            await stores.signingKeys.insert(key)
            await stores.clients.create(client)
            await stores.resources.create(resource)
            await stores.profiles.create(profile)
            await stores.devices.create(device)
            await stores.grants.create(grant)
            await stores.refreshTokens.create(token)
            await stores.tenants.update(existing.id, { name: 'Changed in a failed transaction' })
            await stores.clients.delete(existing.id, existingClient.clientId)
            assert.ok(await stores.refreshTokens.get(token.tokenId))
            throw failure
          }),
          (error) => error === failure,
        )

        assert.equal(await store().tenants.get(tenant.id), undefined)
        assert.deepEqual(await store().signingKeys.listPublished(tenant.id, NOW), [])
        assert.equal(await store().clients.get(tenant.id, client.clientId), undefined)
        assert.equal(await store().resources.get(tenant.id, resource.audience), undefined)
        assert.equal(await store().profiles.get(tenant.id, profile.id), undefined)
        assert.equal(await store().devices.get(tenant.id, device.id), undefined)
        assert.equal(await store().grants.get(tenant.id, grant.id), undefined)
        assert.equal(await store().refreshTokens.get(token.tokenId), undefined)
        assert.deepEqual(await store().tenants.get(existing.id), existing)
        assert.deepEqual(await store().clients.get(existing.id, existingClient.clientId), existingClient)
      })

      it('of concurrent transactions, undo only the one that fails', async () => {
        // Started together, so that a group-committing store runs them in one batch.
        const tenant = await newTenant()
        const profiles = Array.from({ length: 5 }, () => profileOf(tenant.id))
        const failure = new Error('third unit failed after writing')
        const outcomes = await Promise.allSettled(
          profiles.map((profile, i) =>
            store().transaction(async (stores) => {
              await stores.profiles.create(profile)
              if (i === 2) throw failure
              return profile.id
            }),
          ),
        )
        assert.deepEqual(
          outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : outcome.reason)),
          profiles.map((profile, i) => (i === 2 ? failure : profile.id)),
        )
        for (const [i, profile] of profiles.entries()) {
          assert.deepEqual(await store().profiles.get(tenant.id, profile.id), i === 2 ? undefined : profile)
        }
      })

      it('let reads outside a transaction go on while it is open, seeing only what is committed', {
        timeout: 5_000,
      }, async () => {
        const tenant = await newTenant()
        const profile = profileOf(tenant.id)
        const { promise: written, resolve: write } = Promise.withResolvers<void>()
        const { promise: finish, resolve: release } = Promise.withResolvers<void>()
        const transaction = store().transaction(async (stores) => {
          await stores.profiles.create(profile)
          write()
          await finish
        })
        await written
        // Were reads queued behind the open transaction, this one would never be answered.
        assert.equal(await store().profiles.get(tenant.id, profile.id), undefined)
        release()
        await transaction
        assert.deepEqual(await store().profiles.get(tenant.id, profile.id), profile)
      })

      it('keep a write made outside a transaction when a concurrent one rolls back', {
        timeout: 5_000,
      }, async () => {
        const tenant = await newTenant()
        const [inside, outside] = [profileOf(tenant.id), profileOf(tenant.id)]
        const { promise: written, resolve: write } = Promise.withResolvers<void>()
        const { promise: finish, resolve: release } = Promise.withResolvers<void>()
        const failure = new Error('rolled back on purpose')
        const transaction = store().transaction(async (stores) => {
          await stores.profiles.create(inside)
          write()
          await finish
          throw failure
        })
        await written
        // On a single writer (SQLite) this waits for the transaction to end; it must not join it.
        const plain = store().profiles.create(outside)
        await setTimeout(50)
        release()
        await assert.rejects(transaction, (error) => error === failure)
        await plain
        assert.equal(await store().profiles.get(tenant.id, inside.id), undefined)
        assert.deepEqual(await store().profiles.get(tenant.id, outside.id), outside)
      })

      it('roll back when a statement fails, and leave the store usable', async () => {
        const tenant = tenantOf()
        await assert.rejects(
          store().transaction(async (stores) => {
            await stores.tenants.create(tenant)
            await stores.devices.create(deviceOf(tenant.id, uid('missing-profile')))
          }),
        )
        assert.equal(await store().tenants.get(tenant.id), undefined)
        await store().tenants.create(tenant)
        assert.deepEqual(await store().tenants.get(tenant.id), tenant)
      })
    })
  })
}
