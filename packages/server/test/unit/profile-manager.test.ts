import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { defaultAttributeLimits } from '../../src/domain/profile-manager.ts'
import type { Services } from '../../src/domain/services.ts'
import { AppError } from '../../src/errors/app-error.ts'
import type { Tenant } from '../../src/store/tenant-store.ts'
import { skipUnlessPostgres } from '../support/postgres.ts'
import { type Backend, openTestServices, type TestServices } from '../support/services.ts'

const skipPostgres = await skipUnlessPostgres()

/** The outcome of concurrent calls: how many succeeded, and the codes of those that failed. */
async function settle(calls: Promise<unknown>[]): Promise<{ fulfilled: number; codes: string[] }> {
  const results = await Promise.allSettled(calls)
  return {
    fulfilled: results.filter((r) => r.status === 'fulfilled').length,
    codes: results.flatMap((r) =>
      r.status === 'rejected' ? [r.reason instanceof AppError ? r.reason.code : String(r.reason)] : [],
    ),
  }
}

for (const backend of ['sqlite', 'postgres'] as const satisfies Backend[]) {
  describe(`profile attributes under concurrent writes (${backend})`, {
    skip: backend === 'postgres' && skipPostgres,
  }, () => {
    let opened: TestServices
    let services: Services
    let tenant: Tenant

    before(async () => {
      opened = await openTestServices(backend)
      services = opened.services
      tenant = await services.tenants.create({ id: 'concurrent' })
    })
    after(() => opened?.close())

    async function newProfile(): Promise<string> {
      const { device } = await services.devices.enrollAnonymous(tenant, {
        clientId: 'app',
        jkt: 'jkt',
        authenticationMode: 'no',
        hardwareKey: false,
        scope: '',
        amr: ['anon'],
      })
      return device.profileId
    }

    it('never lets a profile exceed its attribute count, however many writes race', async () => {
      const profileId = await newProfile()
      const { maxCount } = defaultAttributeLimits
      for (let i = 0; i < maxCount - 1; i++)
        await services.profiles.putAttribute(tenant.id, profileId, `a${i}`, i)
      const outcome = await settle(
        Array.from({ length: 6 }, (_, i) =>
          services.profiles.putAttribute(tenant.id, profileId, `race${i}`, i),
        ),
      )
      assert.deepEqual(outcome, { fulfilled: 1, codes: Array(5).fill('conflict') })
      assert.equal((await services.profiles.listAttributes(tenant.id, profileId)).length, maxCount)
    })

    it('lets exactly one of concurrent If-None-Match: * writers create an attribute', async () => {
      const profileId = await newProfile()
      const outcome = await settle(
        Array.from({ length: 5 }, (_, i) =>
          services.profiles.putAttribute(tenant.id, profileId, 'claim', { writer: i }, { ifNoneMatch: '*' }),
        ),
      )
      assert.deepEqual(outcome, { fulfilled: 1, codes: Array(4).fill('precondition_failed') })
    })

    it('lets exactly one of concurrent If-Match writers replace a version', async () => {
      const profileId = await newProfile()
      const { attribute } = await services.profiles.putAttribute(tenant.id, profileId, 'counter', 0)
      const outcome = await settle(
        [1, 2, 3, 4].map((n) =>
          services.profiles.putAttribute(tenant.id, profileId, 'counter', n, {
            ifMatch: [attribute.version],
          }),
        ),
      )
      assert.deepEqual(outcome, { fulfilled: 1, codes: Array(3).fill('precondition_failed') })
    })

    it('reports a profile deleted meanwhile as not found, and writes nothing', async () => {
      const profileId = await newProfile()
      await services.profiles.deleteAnonymousProfile(tenant.id, profileId)
      await assert.rejects(
        services.profiles.putAttribute(tenant.id, profileId, 'late', 1),
        (error) => error instanceof AppError && error.code === 'not_found',
      )
      await assert.rejects(
        services.profiles.deleteAnonymousProfile(tenant.id, profileId),
        (error) => error instanceof AppError && error.code === 'not_found',
      )
      assert.deepEqual(await services.store.profileAttributes.list(tenant.id, profileId), [])
    })
  })
}
