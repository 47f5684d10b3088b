import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { LoginThrottle } from '../../src/domain/login-throttle.ts'
import type { EphemeralStore } from '../../src/ephemeral/ephemeral-store.ts'
import { MemoryEphemeralStore } from '../../src/ephemeral/memory-ephemeral-store.ts'
import { RedisEphemeralStore } from '../../src/ephemeral/redis-ephemeral-store.ts'
import { skipUnlessRedis, testRedisUrl } from '../support/redis.ts'

function defineEphemeralSuite(
  name: string,
  open: () => EphemeralStore,
  options: { skip?: string | false } = {},
): void {
  describe(name, { skip: options.skip ?? false }, () => {
    let store: EphemeralStore
    // Redis outlives the test: keys new each run keep the runs apart.
    const run = randomBytes(4).toString('hex')
    const key = (name: string): string => `test:${run}:${name}`

    before(async () => {
      store = open()
      // Redis fails commands at once until connected (no offline queue): wait for it.
      for (let attempt = 1; ; attempt++) {
        try {
          await store.ping()
          break
        } catch (error) {
          if (attempt === 40) throw error
          await sleep(50)
        }
      }
    })
    after(() => store?.close())

    it('stores, reads, replaces and deletes values', async () => {
      assert.equal(await store.get(key('value')), undefined)
      await store.set(key('value'), 'one', 60)
      assert.equal(await store.get(key('value')), 'one')
      await store.set(key('value'), 'two', 60)
      assert.equal(await store.get(key('value')), 'two')
      await store.delete(key('value'))
      assert.equal(await store.get(key('value')), undefined)
    })

    it('gives a value to exactly one of several concurrent takers', async () => {
      await store.set(key('once'), 'secret', 60)
      const taken = await Promise.all([1, 2, 3, 4].map(() => store.take(key('once'))))
      assert.deepEqual(
        taken.filter((v) => v !== undefined),
        ['secret'],
      )
      assert.equal(await store.get(key('once')), undefined)
      assert.equal(await store.take(key('never-set')), undefined)
    })

    it('lets values expire', async () => {
      await store.set(key('short'), 'x', 1)
      await sleep(1100)
      assert.equal(await store.get(key('short')), undefined)
      assert.equal(await store.take(key('short')), undefined)
    })

    it('counts hits, and records a key once', async () => {
      assert.equal(await store.increment(key('count'), 60), 1)
      assert.equal(await store.increment(key('count'), 60), 2)
      assert.equal(await store.addIfAbsent(key('seen'), 60), true)
      assert.equal(await store.addIfAbsent(key('seen'), 60), false)
    })

    it('locks out after the failures the throttle allows, per account and per IP', async () => {
      const limit = { failures: 3, windowSeconds: 60, lockSeconds: 30 }
      const throttle = new LoginThrottle(store, { account: limit, ip: { ...limit, failures: 5 } })
      const tenant = `t${run}`
      for (let i = 0; i < 2; i++) await throttle.recordFailure(tenant, 'a@example.com', '10.0.0.1')
      assert.equal(await throttle.lockedFor(tenant, 'a@example.com', '10.0.0.1'), undefined)
      // A success clears the account's failures, not the IP's.
      await throttle.recordSuccess(tenant, 'a@example.com')
      for (let i = 0; i < 2; i++) await throttle.recordFailure(tenant, 'a@example.com', '10.0.0.2')
      assert.equal(await throttle.lockedFor(tenant, 'a@example.com', '10.0.0.3'), undefined)
      await throttle.recordFailure(tenant, 'a@example.com', '10.0.0.2')
      const locked = await throttle.lockedFor(tenant, 'a@example.com', '10.0.0.3')
      assert.ok(locked !== undefined && locked > 25 && locked <= 31, String(locked))
      assert.equal(await throttle.lockedFor(tenant, 'b@example.com', '10.0.0.3'), undefined)
      // 10.0.0.1 failed twice, 10.0.0.2 three times: neither reached 5.
      assert.equal(await throttle.lockedFor(tenant, 'b@example.com', '10.0.0.2'), undefined)
      for (let i = 0; i < 2; i++) await throttle.recordFailure(tenant, `c${i}@example.com`, '10.0.0.2')
      assert.ok((await throttle.lockedFor(tenant, 'b@example.com', '10.0.0.2')) !== undefined)
    })
  })
}

defineEphemeralSuite('ephemeral store in memory', () => new MemoryEphemeralStore())
defineEphemeralSuite('ephemeral store on Redis', () => new RedisEphemeralStore(testRedisUrl), {
  skip: await skipUnlessRedis(),
})

describe('ephemeral store in memory: sweeping', () => {
  it('drops what expired, and keeps a key written again with a longer life', async () => {
    const store = new MemoryEphemeralStore()
    try {
      for (let i = 0; i < 1000; i++) await store.addIfAbsent(`replay:${i}`, 0.2)
      await store.set('rewritten', 'first', 0.2)
      await store.set('rewritten', 'second', 60)
      await store.set('deleted-then-added', 'x', 0.2)
      await store.delete('deleted-then-added')
      assert.equal(await store.addIfAbsent('deleted-then-added', 60), true)
      await store.increment('window', 60)
      assert.equal(store.size, 1003)
      // The sweep runs every second.
      await sleep(1300)
      assert.equal(store.size, 3)
      assert.equal(await store.get('rewritten'), 'second')
      assert.equal(await store.addIfAbsent('deleted-then-added', 60), false)
      assert.equal(await store.increment('window', 60), 2)
      assert.equal(await store.addIfAbsent('replay:1', 60), true)
    } finally {
      await store.close()
    }
  })
})
