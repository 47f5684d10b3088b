import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { hashPassword, verifyDummyPassword, verifyPassword } from '../../src/crypto/passwords.ts'

const threadPool = fileURLToPath(new URL('../../src/thread-pool.ts', import.meta.url))

function poolSizeWith(env: NodeJS.ProcessEnv): string {
  const script = `await import(${JSON.stringify(threadPool)}); console.log(process.env.UV_THREADPOOL_SIZE)`
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env,
    encoding: 'utf8',
  }).trim()
}

describe('thread pool sizing', () => {
  it('gives the pool one thread per CPU beside the event loop, at least one', () => {
    const { UV_THREADPOOL_SIZE: _, ...env } = process.env
    assert.equal(poolSizeWith(env), String(Math.max(1, availableParallelism() - 1)))
  })

  it("keeps an operator's UV_THREADPOOL_SIZE", () => {
    assert.equal(poolSizeWith({ ...process.env, UV_THREADPOOL_SIZE: '7' }), '7')
  })
})

describe('password hashing on worker threads', () => {
  it('hashes with Argon2id and verifies the right password only', async () => {
    const hash = await hashPassword('correct horse battery staple')
    assert.match(hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
    const [right, wrong] = await Promise.all([
      verifyPassword(hash, 'correct horse battery staple'),
      verifyPassword(hash, 'correct horse battery stapler'),
    ])
    assert.equal(right, true)
    assert.equal(wrong, false)
  })

  it('answers every one of many concurrent checks', async () => {
    const hash = await hashPassword('pw-1')
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => verifyPassword(hash, `pw-${i % 2}`)),
    )
    assert.deepEqual(results, [false, true, false, true, false, true])
  })

  it('treats a malformed stored hash as matching nothing', async () => {
    assert.equal(await verifyPassword('not-a-hash', 'x'), false)
    assert.equal(await verifyDummyPassword('x'), false)
  })
})
