import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, it } from 'node:test'
import type { AnonymousEnrollment } from '../../src/domain/device-manager.ts'
import { sweepInactiveProfiles } from '../../src/domain/maintenance.ts'
import { AppError } from '../../src/errors/app-error.ts'
import type { Tenant } from '../../src/store/tenant-store.ts'
import { skipUnlessPostgres } from '../support/postgres.ts'
import { type Backend, openTestServices, type TestServices } from '../support/services.ts'

const day = 24 * 3600
const enrollment: AnonymousEnrollment = {
  clientId: 'app',
  jkt: 'jkt',
  authenticationMode: 'no',
  hardwareKey: false,
  scope: 'attributes:read attributes:write',
  amr: ['anon', 'swk'],
}
const skipPostgres = await skipUnlessPostgres()

for (const backend of ['sqlite', 'postgres'] as const satisfies Backend[]) {
  describe(`sweeping inactive anonymous profiles (${backend})`, {
    skip: backend === 'postgres' && skipPostgres,
  }, () => {
    let opened: TestServices
    /** The sweep's clock: tests move it. */
    let now: number
    const clock = { now: () => now }

    before(async () => {
      opened = await openTestServices(backend)
    })
    beforeEach(() => {
      now = opened.services.clock.now()
    })
    after(() => opened?.close())

    /** An enrolled anonymous profile last active `daysAgo` before the sweep's now, with `attributes` attributes. */
    async function profile(tenant: Tenant, daysAgo: number, attributes = 0): Promise<string> {
      const { services, db } = opened
      const { device } = await services.devices.enrollAnonymous(tenant, enrollment)
      for (let i = 0; i < attributes; i++)
        await services.profiles.putAttribute(tenant.id, device.profileId, `a${i}`, { i })
      await db
        .updateTable('profiles')
        .set({ last_active_at: now - daysAgo * day })
        .where('id', '=', device.profileId)
        .execute()
      return device.profileId
    }

    async function exists(tenant: Tenant, profileId: string): Promise<boolean> {
      return (await opened.services.store.profiles.get(tenant.id, profileId)) !== undefined
    }

    it('deletes exactly the anonymous profiles past their tenant’s limit, in batches, and counts what went with them', async () => {
      const { services, db } = opened
      const weekly = await services.tenants.create({ id: 'weekly', settings: { anonymousInactivityDays: 7 } })
      const monthly = await services.tenants.create({ id: 'monthly' })
      const stale = [await profile(weekly, 8, 2), await profile(weekly, 30, 1), await profile(weekly, 400)]
      const fresh = [await profile(weekly, 6, 3), await profile(weekly, 0)]
      // Exactly at the limit is not past it.
      const atTheLimit = await profile(weekly, 7)
      const identified = await profile(weekly, 1000, 1)
      await db.updateTable('profiles').set({ kind: 'identified' }).where('id', '=', identified).execute()
      const monthlies = [await profile(monthly, 8), await profile(monthly, 29, 1)]

      const dryRun = await sweepInactiveProfiles(services.store, clock, { dryRun: true })
      const expected = { profiles: 3, devices: 3, grants: 3, refreshTokens: 3, attributes: 3 }
      const none = { profiles: 0, devices: 0, grants: 0, refreshTokens: 0, attributes: 0 }
      assert.deepEqual(dryRun, [
        { tenantId: 'monthly', inactiveBefore: now - 30 * day, deleted: none },
        { tenantId: 'weekly', inactiveBefore: now - 7 * day, deleted: expected },
      ])
      for (const id of stale) assert.ok(await exists(weekly, id), 'a dry run deletes nothing')

      const progress: { tenantId: string; done: number; total: number }[] = []
      const swept = await sweepInactiveProfiles(services.store, clock, {
        batchSize: 2,
        onProgress: (step) => progress.push(step),
      })
      assert.deepEqual(swept, dryRun)
      assert.deepEqual(progress, [
        { tenantId: 'monthly', done: 0, total: 0 },
        { tenantId: 'monthly', done: 0, total: 0 },
        { tenantId: 'weekly', done: 0, total: 3 },
        { tenantId: 'weekly', done: 2, total: 3 },
        { tenantId: 'weekly', done: 3, total: 3 },
      ])
      for (const id of stale) {
        assert.equal(await exists(weekly, id), false)
        assert.deepEqual(await services.devices.list(weekly.id, { profileId: id }), [])
        assert.deepEqual(await services.store.profileAttributes.list(weekly.id, id), [])
      }
      for (const id of [...fresh, atTheLimit, identified]) assert.ok(await exists(weekly, id))
      for (const id of monthlies) assert.ok(await exists(monthly, id))

      // A month later every anonymous profile is past both limits; the identified one stays.
      now += 31 * day
      const later = await sweepInactiveProfiles(services.store, clock, { tenantId: 'weekly' })
      assert.deepEqual(
        later.map((t) => [t.tenantId, t.deleted.profiles, t.deleted.attributes]),
        [['weekly', 3, 3]],
      )
      assert.ok(await exists(weekly, identified))
      for (const id of monthlies) assert.ok(await exists(monthly, id), '--tenant sweeps that tenant only')
      assert.deepEqual(
        (await sweepInactiveProfiles(services.store, clock)).map((t) => [t.tenantId, t.deleted.profiles]),
        [
          ['monthly', 2],
          ['weekly', 0],
        ],
      )
    })

    it('keeps a profile whose activity is recent: enrollment, a refresh or an attribute write', async () => {
      const { services } = opened
      const tenant = await services.tenants.create({ id: 'active', settings: { anonymousInactivityDays: 1 } })
      const written = await profile(tenant, 5)
      const refreshed = await profile(tenant, 5)
      const idle = await profile(tenant, 5)
      const enrolled = (await services.devices.enrollAnonymous(tenant, enrollment)).device.profileId
      // Attribute writes run on the services' clock, which is the sweep's now here.
      await services.profiles.putAttribute(tenant.id, written, 'seen', true)
      // What the refresh grant does in its transaction.
      await services.store.profiles.touch(refreshed, now)
      const swept = await sweepInactiveProfiles(services.store, clock, { tenantId: tenant.id })
      assert.equal(swept[0]?.deleted.profiles, 1)
      assert.equal(await exists(tenant, idle), false)
      assert.ok(await exists(tenant, written))
      assert.ok(await exists(tenant, refreshed))
      assert.ok(await exists(tenant, enrolled))
    })

    it('stops between batches when its signal aborts', async () => {
      const { services } = opened
      const tenant = await services.tenants.create({
        id: 'stopped',
        settings: { anonymousInactivityDays: 1 },
      })
      for (let i = 0; i < 5; i++) await profile(tenant, 10)
      const stop = new AbortController()
      const swept = await sweepInactiveProfiles(services.store, clock, {
        tenantId: tenant.id,
        batchSize: 2,
        signal: stop.signal,
        onProgress: ({ done }) => {
          if (done > 0) stop.abort()
        },
      })
      assert.equal(swept[0]?.deleted.profiles, 2)
      assert.equal(await services.store.profileRetention.countInactive(tenant.id, now), 3)
    })

    it('refuses an unknown tenant and a batch size out of range', async () => {
      const { services } = opened
      await assert.rejects(
        sweepInactiveProfiles(services.store, clock, { tenantId: 'nobody' }),
        (error) => error instanceof AppError && error.code === 'not_found',
      )
      for (const batchSize of [0, 5001, 1.5])
        await assert.rejects(
          sweepInactiveProfiles(services.store, clock, { batchSize }),
          (error) => error instanceof AppError && error.code === 'invalid_input',
        )
    })
  })
}
