import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import type { AppleCommand } from '../../src/apple/apple-command-store.ts'
import type { AppleConfig } from '../../src/apple/apple-config-store.ts'
import type { AppleEnrollment } from '../../src/apple/apple-enrollment-store.ts'
import { defaultEnrollmentTypes } from '../../src/apple/apple-settings.ts'
import { timeOrderedId } from '../../src/crypto/secrets.ts'
import type { Store } from '../../src/store/stores.ts'
import type { Tenant } from '../../src/store/tenant-store.ts'

/** Epoch seconds; `LATER` only round-trips through a 64-bit column. */
const NOW = 1_767_225_600
const LATER = 4_102_444_800

/**
 * The Apple enrollment stores against whatever database `open` provides (SQLite and PostgreSQL),
 * in the style of the shared store suite: each test works in tenants of its own.
 */
export function defineAppleStoreSuite(
  name: string,
  open: () => Promise<{ store: Store; cleanup: () => Promise<void> }>,
): void {
  describe(name, () => {
    let opened: { store: Store; cleanup: () => Promise<void> } | undefined
    const run = randomBytes(3).toString('hex')
    let sequence = 0
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

    async function newTenant(): Promise<Tenant> {
      const tenant: Tenant = {
        id: uid('tenant'),
        name: 'Tenant',
        settings: {
          accessTokenTtl: 300,
          refreshTokenIdleTtl: 86_400,
          refreshTokenAbsoluteTtl: 2_592_000,
          dpopNonce: false,
          anonymousInactivityDays: 30,
          mergePolicy: 'none',
        },
        createdAt: NOW,
      }
      await store().tenants.create(tenant)
      return tenant
    }

    async function newPerson(): Promise<{ tenant: Tenant; profileId: string }> {
      const tenant = await newTenant()
      const profileId = uid('profile')
      await store().profiles.create({
        id: profileId,
        tenantId: tenant.id,
        kind: 'identified',
        createdAt: NOW,
        lastActiveAt: NOW,
        attachedAt: undefined,
      })
      return { tenant, profileId }
    }

    function configOf(
      tenantId: string,
      domains: string[],
      overrides: Partial<AppleConfig> = {},
    ): AppleConfig {
      return {
        tenantId,
        settings: {
          managedDomains: domains,
          enrollmentTypes: { ...defaultEnrollmentTypes, Mac: 'mdm-adde' },
          authenticationMethod: 'apple-oauth2',
          clientId: 'apple-enrollment',
          topic: 'com.apple.mgmt.External.0f1e2d',
          organization: 'Example Inc.',
          accessRights: 8191,
          enrollmentSSO: {
            iTunesStoreID: 123456789,
            AssociatedDomains: ['example.com'],
            ConfigurationProfile: 'AAAA',
          },
          enrollmentSSODeveloper: undefined,
          identity: { type: 'scep', payload: { URL: 'https://scep.example.com/scep', Keysize: 2048 } },
          deviceTrustAnchors: [],
        },
        ca: {
          keyType: 'ec',
          certificatePEM: '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n',
          sealedPrivateKey: 'v1.a.b.c',
        },
        push: {
          environment: 'sandbox',
          certificatePEM: '-----BEGIN CERTIFICATE-----\nAQ==\n-----END CERTIFICATE-----\n',
          sealedPrivateKey: 'v1.d.e.f',
        },
        profileSigning: {
          chainPEM:
            '-----BEGIN CERTIFICATE-----\nAg==\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nAw==\n-----END CERTIFICATE-----\n',
          sealedPrivateKey: 'v1.g.h.i',
        },
        createdAt: NOW,
        updatedAt: LATER,
        ...overrides,
      }
    }

    function enrollmentOf(
      tenantId: string,
      profileId: string,
      overrides: Partial<AppleEnrollment> = {},
    ): AppleEnrollment {
      return {
        id: timeOrderedId(),
        tenantId,
        profileId,
        grantId: uid('grant'),
        enrollmentType: 'mdm-byod',
        managedAppleId: 'alice@example.com',
        status: 'profile_issued',
        device: {
          udid: undefined,
          userEnrollmentId: undefined,
          serialNumber: undefined,
          product: 'iPhone12,1',
          osBuild: '19H12',
          osVersion: undefined,
          language: 'ja-JP',
        },
        push: undefined,
        identitySerial: '0a1b2c',
        identitySHA256: 'ab'.repeat(32),
        identityNotAfter: NOW + 365 * 86400,
        renewal: undefined,
        sealedUnlockToken: undefined,
        createdAt: NOW,
        updatedAt: NOW,
        lastSeenAt: NOW,
        checkedOutAt: undefined,
        ...overrides,
      }
    }

    function commandOf(
      tenantId: string,
      enrollmentId: string,
      overrides: Partial<AppleCommand> = {},
    ): AppleCommand {
      return {
        commandUUID: timeOrderedId(),
        tenantId,
        enrollmentId,
        requestType: 'InstallProfile',
        command: {
          RequestType: 'InstallProfile',
          Payload: Buffer.from('profile'),
          Count: 2,
          Ratio: 0.5,
          On: true,
        },
        status: 'queued',
        result: undefined,
        createdAt: NOW,
        sentAt: undefined,
        completedAt: undefined,
        ...overrides,
      }
    }

    describe('Apple configurations', () => {
      it('put and get round-trip the settings, the CA and the managed domains', async () => {
        const tenant = await newTenant()
        const config = configOf(tenant.id, [`${uid('a')}.example`, `${uid('b')}.example`].sort())
        await store().appleConfigs.put(config)
        assert.deepEqual(await store().appleConfigs.get(tenant.id), config)
        assert.equal(await store().appleConfigs.get(uid('missing')), undefined)
      })

      it('put replaces the configuration and its domains', async () => {
        const tenant = await newTenant()
        const [first, second] = [`${uid('a')}.example`, `${uid('b')}.example`]
        await store().appleConfigs.put(configOf(tenant.id, [first]))
        const replaced = configOf(tenant.id, [second], {
          ca: undefined,
          push: undefined,
          profileSigning: undefined,
          updatedAt: NOW + 60,
        })
        await store().appleConfigs.put(replaced)
        assert.deepEqual(await store().appleConfigs.get(tenant.id), replaced)
        assert.equal(await store().appleConfigs.tenantForDomain(first), undefined)
        assert.equal(await store().appleConfigs.tenantForDomain(second), tenant.id)
      })

      it('listCertificates gives each configured tenant’s certificates, never a key', async () => {
        const [tenant, bare] = [await newTenant(), await newTenant()]
        const config = configOf(tenant.id, [`${uid('c')}.example`])
        await store().appleConfigs.put(config)
        await store().appleConfigs.put(
          configOf(bare.id, [`${uid('d')}.example`], {
            ca: undefined,
            push: undefined,
            profileSigning: undefined,
          }),
        )
        const listed = (await store().appleConfigs.listCertificates()).filter((certificates) =>
          [tenant.id, bare.id].includes(certificates.tenantId),
        )
        assert.deepEqual(
          listed,
          [
            {
              tenantId: tenant.id,
              deviceCA: config.ca!.certificatePEM,
              push: config.push!.certificatePEM,
              profileSigningChain: config.profileSigning!.chainPEM,
            },
            { tenantId: bare.id, deviceCA: undefined, push: undefined, profileSigningChain: undefined },
          ].sort((a, b) => (a.tenantId < b.tenantId ? -1 : 1)),
        )
      })

      it('a domain belongs to one tenant', async () => {
        const tenant = await newTenant()
        const other = await newTenant()
        const domain = `${uid('shared')}.example`
        await store().appleConfigs.put(configOf(tenant.id, [domain]))
        assert.deepEqual(
          await store().appleConfigs.domainsOfOtherTenants(other.id, [domain, 'free.example']),
          [domain],
        )
        assert.deepEqual(await store().appleConfigs.domainsOfOtherTenants(tenant.id, [domain]), [])
        await assert.rejects(store().appleConfigs.put(configOf(other.id, [domain])))
      })

      it('deleting the tenant deletes its configuration and domains', async () => {
        const tenant = await newTenant()
        const domain = `${uid('gone')}.example`
        await store().appleConfigs.put(configOf(tenant.id, [domain]))
        await store().tenants.delete(tenant.id)
        assert.equal(await store().appleConfigs.get(tenant.id), undefined)
        assert.equal(await store().appleConfigs.tenantForDomain(domain), undefined)
      })
    })

    describe('Apple enrollments', () => {
      it('create and get round-trip, numbers as numbers', async () => {
        const { tenant, profileId } = await newPerson()
        const enrollment = enrollmentOf(tenant.id, profileId, { createdAt: LATER })
        await store().appleEnrollments.create(enrollment)
        const got = await store().appleEnrollments.get(tenant.id, enrollment.id)
        assert.deepEqual(got, enrollment)
        assert.equal(typeof got?.createdAt, 'number')
        assert.equal(await store().appleEnrollments.get(uid('other'), enrollment.id), undefined)
      })

      it('update sets what the patch names, device facts and push target included', async () => {
        const { tenant, profileId } = await newPerson()
        const enrollment = enrollmentOf(tenant.id, profileId)
        await store().appleEnrollments.create(enrollment)
        const push = { topic: 'com.apple.mgmt.External.0f1e2d', token: 'a0b1c2', magic: 'F2C1-11' }
        assert.equal(
          await store().appleEnrollments.update(
            tenant.id,
            enrollment.id,
            {
              status: 'enrolled',
              push,
              grantId: 'grant-2',
              sealedUnlockToken: 'v1.g.h.i',
              device: { userEnrollmentId: 'ENR-1', osVersion: '26.1' },
            },
            NOW + 10,
          ),
          true,
        )
        assert.deepEqual(await store().appleEnrollments.get(tenant.id, enrollment.id), {
          ...enrollment,
          status: 'enrolled',
          push,
          grantId: 'grant-2',
          sealedUnlockToken: 'v1.g.h.i',
          device: { ...enrollment.device, userEnrollmentId: 'ENR-1', osVersion: '26.1' },
          updatedAt: NOW + 10,
        })
        await store().appleEnrollments.update(
          tenant.id,
          enrollment.id,
          { status: 'checked_out', checkedOutAt: LATER },
          LATER,
        )
        const left = await store().appleEnrollments.get(tenant.id, enrollment.id)
        assert.equal(left?.checkedOutAt, LATER)
        assert.deepEqual(left?.push, push, 'a patch without push keeps it')
        await store().appleEnrollments.update(tenant.id, enrollment.id, { push: null }, LATER)
        assert.equal((await store().appleEnrollments.get(tenant.id, enrollment.id))?.push, undefined)
        assert.equal(
          await store().appleEnrollments.update(uid('other'), enrollment.id, { status: 'enrolled' }, NOW),
          false,
        )
      })

      it('update starts, completes and ends an identity renewal', async () => {
        const { tenant, profileId } = await newPerson()
        const enrollment = enrollmentOf(tenant.id, profileId)
        await store().appleEnrollments.create(enrollment)
        const renewal = {
          commandUUID: uid('command'),
          serial: '0c0d',
          sha256: 'cd'.repeat(32),
          notAfter: LATER,
          sealedProfile: 'v1.j.k.l',
        }
        await store().appleEnrollments.update(tenant.id, enrollment.id, { renewal }, NOW + 1)
        assert.deepEqual((await store().appleEnrollments.get(tenant.id, enrollment.id))?.renewal, renewal)
        const identity = { serial: renewal.serial, sha256: renewal.sha256, notAfter: renewal.notAfter }
        await store().appleEnrollments.update(tenant.id, enrollment.id, { identity, renewal: null }, NOW + 2)
        const renewed = await store().appleEnrollments.get(tenant.id, enrollment.id)
        assert.deepEqual(renewed, {
          ...enrollment,
          identitySerial: identity.serial,
          identitySHA256: identity.sha256,
          identityNotAfter: identity.notAfter,
          updatedAt: NOW + 2,
        })
        await store().appleEnrollments.update(tenant.id, enrollment.id, { renewal }, NOW + 3)
        await store().appleEnrollments.update(tenant.id, enrollment.id, { status: 'enrolled' }, NOW + 4)
        assert.deepEqual(
          (await store().appleEnrollments.get(tenant.id, enrollment.id))?.renewal,
          renewal,
          'a patch without renewal keeps it',
        )
      })

      it('list pages in id order, per tenant and per person', async () => {
        const { tenant, profileId } = await newPerson()
        const enrollments = [
          enrollmentOf(tenant.id, profileId),
          enrollmentOf(tenant.id, profileId),
          enrollmentOf(tenant.id, profileId),
        ].sort((a, b) => a.id.localeCompare(b.id))
        for (const enrollment of [...enrollments].reverse()) await store().appleEnrollments.create(enrollment)
        const list = await store().appleEnrollments.list(tenant.id)
        assert.deepEqual(list, enrollments)
        assert.deepEqual(
          await store().appleEnrollments.list(tenant.id, { limit: 2 }),
          enrollments.slice(0, 2),
        )
        assert.deepEqual(
          await store().appleEnrollments.list(tenant.id, { after: enrollments[0]!.id }),
          enrollments.slice(1),
        )
        assert.deepEqual(await store().appleEnrollments.list(tenant.id, { profileId: uid('nobody') }), [])
      })

      it('deleting the person deletes their enrollments and commands', async () => {
        const { tenant, profileId } = await newPerson()
        const enrollment = enrollmentOf(tenant.id, profileId)
        await store().appleEnrollments.create(enrollment)
        await store().appleCommands.create(commandOf(tenant.id, enrollment.id))
        await store().profiles.delete(tenant.id, profileId)
        assert.equal(await store().appleEnrollments.get(tenant.id, enrollment.id), undefined)
        assert.deepEqual(await store().appleCommands.list(tenant.id, enrollment.id), [])
      })
    })

    describe('Apple commands', () => {
      async function newEnrollment(): Promise<AppleEnrollment> {
        const { tenant, profileId } = await newPerson()
        const enrollment = enrollmentOf(tenant.id, profileId)
        await store().appleEnrollments.create(enrollment)
        return enrollment
      }

      it('create and get round-trip the command dictionary, data and numbers included', async () => {
        const enrollment = await newEnrollment()
        const command = commandOf(enrollment.tenantId, enrollment.id)
        await store().appleCommands.create(command)
        const got = await store().appleCommands.get(enrollment.tenantId, command.commandUUID)
        assert.deepEqual(got, command)
        assert.ok(Buffer.isBuffer(got?.command.Payload))
      })

      it('next serves the oldest command in the given statuses', async () => {
        const enrollment = await newEnrollment()
        const { tenantId, id } = enrollment
        const [first, second] = [commandOf(tenantId, id), commandOf(tenantId, id)].sort((a, b) =>
          a.commandUUID.localeCompare(b.commandUUID),
        ) as [AppleCommand, AppleCommand]
        await store().appleCommands.create(second)
        await store().appleCommands.create(first)
        assert.equal(
          (await store().appleCommands.next(tenantId, id, ['queued']))?.commandUUID,
          first.commandUUID,
        )
        await store().appleCommands.markSent(tenantId, first.commandUUID, NOW + 1)
        assert.equal(
          (await store().appleCommands.next(tenantId, id, ['queued']))?.commandUUID,
          second.commandUUID,
        )
        assert.equal(
          (await store().appleCommands.next(tenantId, id, ['sent']))?.commandUUID,
          first.commandUUID,
        )
        assert.equal(await store().appleCommands.next(tenantId, id, ['NotNow']), undefined)
      })

      it('recordResult stores the report of the enrollment’s own commands only', async () => {
        const enrollment = await newEnrollment()
        const other = await newEnrollment()
        const command = commandOf(enrollment.tenantId, enrollment.id)
        await store().appleCommands.create(command)
        const report =
          '<plist version="1.0"><dict><key>Status</key><string>Acknowledged</string></dict></plist>'
        assert.equal(
          await store().appleCommands.recordResult(other.tenantId, other.id, command.commandUUID, {
            status: 'Acknowledged',
            report,
            at: NOW,
          }),
          false,
        )
        assert.equal(
          await store().appleCommands.recordResult(enrollment.tenantId, enrollment.id, command.commandUUID, {
            status: 'NotNow',
            report,
            at: NOW,
          }),
          true,
        )
        let got = await store().appleCommands.get(enrollment.tenantId, command.commandUUID)
        assert.equal(got?.status, 'NotNow')
        assert.equal(got?.completedAt, undefined)
        await store().appleCommands.recordResult(enrollment.tenantId, enrollment.id, command.commandUUID, {
          status: 'Acknowledged',
          report,
          at: LATER,
        })
        got = await store().appleCommands.get(enrollment.tenantId, command.commandUUID)
        assert.deepEqual([got?.status, got?.result, got?.completedAt], ['Acknowledged', report, LATER])
        assert.deepEqual(
          (await store().appleCommands.list(enrollment.tenantId, enrollment.id)).map((c) => c.commandUUID),
          [command.commandUUID],
        )
      })
    })

    describe('transactions', () => {
      it('roll back an enrollment created in a failed unit of work', async () => {
        const { tenant, profileId } = await newPerson()
        const enrollment = enrollmentOf(tenant.id, profileId)
        await assert.rejects(
          store().transaction(async (stores) => {
            await stores.appleEnrollments.create(enrollment)
            throw new Error('boom')
          }),
          /boom/,
        )
        assert.equal(await store().appleEnrollments.get(tenant.id, enrollment.id), undefined)
      })
    })
  })
}
