import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ExchangeCache } from '../../src/core/exchange-cache.ts'
import { renewalTime } from '../../src/core/freshness.ts'
import type { ExchangedToken } from '../../src/index.ts'

function setup(lifetime = 300_000): {
  cache: ExchangeCache
  clock: { now: () => number; time: number }
  exchanges: string[]
  release: () => void
  hold: () => void
} {
  const clock = {
    time: 1_000_000,
    now() {
      return this.time
    },
  }
  const exchanges: string[] = []
  let gate: Promise<void> | undefined
  let open: () => void = () => {}
  const cache = new ExchangeCache({
    clock,
    expirySkew: 30_000,
    exchange: async (audience): Promise<ExchangedToken> => {
      exchanges.push(audience)
      await gate
      return {
        accessToken: `${audience}-${exchanges.length}`,
        tokenType: 'DPoP',
        audience,
        expiresAt: clock.time + lifetime,
      }
    },
  })
  return {
    cache,
    clock,
    exchanges,
    hold: () => {
      gate = new Promise((resolve) => {
        open = resolve
      })
    },
    release: () => open(),
  }
}

describe('exchange cache', () => {
  it('keeps a token per audience until 30 s before it expires; forceUpdate exchanges anyway', async () => {
    const { cache, clock, exchanges } = setup()
    const first = await cache.get('api')
    assert.equal(await cache.get('api'), first)
    await cache.get('other')
    clock.time += 269_000
    assert.equal(await cache.get('api'), first)
    clock.time += 1_000
    assert.notEqual(await cache.get('api'), first)
    await cache.get('api', { forceUpdate: true })
    assert.deepEqual(exchanges, ['api', 'other', 'api', 'api'])
  })

  it('joins concurrent requests for one audience into one exchange', async () => {
    const { cache, exchanges, hold, release } = setup()
    hold()
    const pending = [
      cache.get('api'),
      cache.get('api'),
      cache.get('api', { forceUpdate: true }),
      cache.get('b'),
    ]
    release()
    const tokens = await Promise.all(pending)
    assert.deepEqual(exchanges, ['api', 'b'])
    assert.equal(tokens[0], tokens[2])
  })

  it('does not keep a token whose exchange was under way when it was cleared, nor a failure', async () => {
    const { cache, exchanges, hold, release } = setup()
    hold()
    const pending = cache.get('api')
    cache.clear()
    release()
    await pending
    await cache.get('api')
    assert.equal(exchanges.length, 2)

    let fail = true
    const failing = new ExchangeCache({
      clock: { now: () => 0 },
      expirySkew: 0,
      exchange: async (audience) => {
        if (fail) throw new Error('down')
        return { accessToken: 't', tokenType: 'Bearer', audience, expiresAt: 1000 }
      },
    })
    await assert.rejects(failing.get('api'), /down/)
    fail = false
    assert.equal((await failing.get('api')).accessToken, 't')
  })
})

describe('renewal time', () => {
  it('is the skew before expiry, but never in the first half of a short life', () => {
    assert.equal(renewalTime(0, 300_000, 30_000), 270_000)
    assert.equal(renewalTime(0, 2_000, 30_000), 1_000)
    assert.equal(renewalTime(0, 60_000, 0), 60_000)
  })
})
