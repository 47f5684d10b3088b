import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { readdir, utimes, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { FileLock } from '../../src/adapters/node/index.ts'
import { InProcessLock, type Lock } from '../../src/index.ts'
import { temporaryDirectory } from '../support/onramp-fixture.ts'

/** Runs `count` holders of one lock at once; each records when it held it. */
async function contend(locks: Lock[], holdFor: number): Promise<{ start: number; end: number }[]> {
  const spans: { start: number; end: number }[] = []
  await Promise.all(
    locks.map((lock) =>
      lock.withLock('enrollment', async () => {
        const start = performance.now()
        await sleep(holdFor)
        spans.push({ start, end: performance.now() })
      }),
    ),
  )
  return spans.sort((a, b) => a.start - b.start)
}

function assertOneAtATime(spans: { start: number; end: number }[]): void {
  for (let i = 1; i < spans.length; i++)
    assert.ok(spans[i]!.start >= spans[i - 1]!.end, `holder ${i} started before holder ${i - 1} ended`)
}

describe('InProcessLock', () => {
  it('runs the holders of one name one after the other, in order, whatever each one does', async () => {
    const lock = new InProcessLock()
    const order: string[] = []
    const failing = lock.withLock('a', async () => {
      order.push('first')
      await sleep(20)
      throw new Error('boom')
    })
    const second = lock.withLock('a', async () => {
      order.push('second')
      return 2
    })
    const other = lock.withLock('b', async () => {
      order.push('other name')
      return 'b'
    })
    await assert.rejects(failing, /boom/)
    assert.equal(await second, 2)
    assert.equal(await other, 'b')
    assert.deepEqual(order, ['first', 'other name', 'second'])
    assertOneAtATime(await contend([lock, lock, lock], 10))
  })
})

describe('FileLock', async () => {
  const folder = await temporaryDirectory()
  after(() => folder.remove())

  it('lets one holder at a time in, across instances, and leaves no file behind', async () => {
    const directory = join(folder.path, 'instances')
    // Holders keep the file's time fresh, so a short staleAge does not break a live lock.
    const locks = Array.from({ length: 3 }, () => new FileLock({ directory, staleAge: 60 }))
    assertOneAtATime(await contend(locks, 120))
    assert.deepEqual(await readdir(directory), [])
    assert.equal(locks[0]!.pathOf('enrollment'), join(directory, 'onramp.enrollment.lock'))
    assert.throws(() => locks[0]!.pathOf('../x'), RangeError)
  })

  it('waits for another process that holds it', async () => {
    const directory = join(folder.path, 'processes')
    const module = new URL('../../src/adapters/node/file-lock.ts', import.meta.url).href
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { FileLock } = await import(${JSON.stringify(module)})
         await new FileLock({ directory: ${JSON.stringify(directory)} }).withLock('enrollment', async () => {
           process.stdout.write('held\\n')
           await new Promise((resolve) => setTimeout(resolve, 400))
           process.stdout.write('released\\n')
         })`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
    const output: string[] = []
    const held = new Promise<void>((resolve) =>
      child.stdout.on('data', (chunk: Buffer) => {
        output.push(...chunk.toString().trim().split('\n'))
        if (output.includes('held')) resolve()
      }),
    )
    const exited = new Promise((resolve) => child.on('exit', resolve))
    await held
    await new FileLock({ directory }).withLock('enrollment', async () => {
      output.push('parent')
    })
    assert.equal(await exited, 0)
    assert.deepEqual(output, ['held', 'released', 'parent'])
  })

  it('breaks the lock of a process that died, and of a holder that stopped refreshing it', async () => {
    const directory = join(folder.path, 'stale')
    const lock = new FileLock({ directory, staleAge: 1000, timeout: 5000 })
    const path = lock.pathOf('enrollment')
    const dead = spawnSync(process.execPath, ['-e', '']).pid
    await lock.withLock('enrollment', async () => {})
    await writeFile(path, JSON.stringify({ pid: dead, host: hostname(), token: 'x' }))
    let started = performance.now()
    assert.equal(await lock.withLock('enrollment', async () => 'taken'), 'taken')
    assert.ok(performance.now() - started < 500, 'a dead holder is seen at once')

    // Another host's holder (its process cannot be asked) that has not refreshed the file for 2 s.
    await writeFile(path, JSON.stringify({ pid: 1, host: 'elsewhere', token: 'y' }))
    const past = new Date(Date.now() - 2000)
    await utimes(path, past, past)
    started = performance.now()
    assert.equal(await lock.withLock('enrollment', async () => 'taken'), 'taken')
    assert.ok(performance.now() - started < 500)
    assert.deepEqual(await readdir(directory), [])
  })

  it('gives up after its timeout with a message that names the holder', async () => {
    const directory = join(folder.path, 'timeout')
    const lock = new FileLock({ directory, timeout: 150 })
    await lock.withLock('enrollment', async () => {})
    await writeFile(lock.pathOf('enrollment'), JSON.stringify({ pid: 1, host: 'elsewhere', token: 'z' }))
    let ran = false
    await assert.rejects(
      lock.withLock('enrollment', async () => {
        ran = true
      }),
      { name: 'TimeoutError', message: /held by process 1 on elsewhere; gave up after 150 ms/ },
    )
    assert.equal(ran, false)
  })
})
