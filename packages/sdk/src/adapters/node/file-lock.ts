import { randomBytes } from 'node:crypto'
import { mkdir, open, readFile, rm, stat, utimes } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Lock } from '../lock.ts'

export interface FileLockOptions {
  /** Folder of the lock files (the storage's); created (mode 0700) when missing. */
  directory: string
  /** The storage namespace: lock `name` is the file `{directory}/{namespace}.{name}.lock`. */
  namespace?: string
  /** Milliseconds to wait for the lock before giving up; 60,000 by default. */
  timeout?: number
  /**
   * Milliseconds after which a lock file nobody refreshed is taken for abandoned; 30,000 by
   * default. The holder refreshes it every third of that while it holds the lock.
   */
  staleAge?: number
}

/** What a lock file says about its holder; `token` tells one acquisition from another. */
interface Holder {
  pid: number
  host: string
  token: string
}

const namePattern = /^[A-Za-z0-9_-]{1,64}$/

/**
 * A lock shared by processes on one machine (or one shared folder): the lock file is created with
 * `O_CREAT | O_EXCL` (`open(path, 'wx')`), which exactly one creator wins, and removed on release.
 * Waiters retry with a short, growing, jittered pause until `timeout`. A lock whose holder died
 * is broken: at once when the file names a process of this host that no longer exists, else once
 * the holder has stopped refreshing the file's time for `staleAge`.
 */
export class FileLock implements Lock {
  readonly #directory: string
  readonly #namespace: string
  readonly #timeout: number
  readonly #staleAge: number

  constructor(options: FileLockOptions) {
    this.#directory = options.directory
    this.#namespace = options.namespace ?? 'onramp'
    this.#timeout = options.timeout ?? 60_000
    this.#staleAge = options.staleAge ?? 30_000
    if (!(this.#timeout >= 0)) throw new RangeError('timeout must be zero or more milliseconds')
    if (!(this.#staleAge > 0)) throw new RangeError('staleAge must be a positive number of milliseconds')
  }

  /** The file of lock `name`. */
  pathOf(name: string): string {
    if (!namePattern.test(name))
      throw new RangeError('a lock name is 1–64 letters, digits, dashes or underscores')
    return join(this.#directory, `${this.#namespace}.${name}.lock`)
  }

  async withLock<T>(name: string, work: () => Promise<T>): Promise<T> {
    const path = this.pathOf(name)
    const holder: Holder = { pid: process.pid, host: hostname(), token: randomBytes(12).toString('hex') }
    await this.#acquire(path, holder)
    const heartbeat = setInterval(() => {
      const now = new Date()
      utimes(path, now, now).catch(() => {})
    }, this.#staleAge / 3)
    heartbeat.unref()
    try {
      return await work()
    } finally {
      clearInterval(heartbeat)
      await release(path, holder)
    }
  }

  async #acquire(path: string, holder: Holder): Promise<void> {
    await mkdir(this.#directory, { recursive: true, mode: 0o700 })
    const deadline = Date.now() + this.#timeout
    let pause = 4
    for (;;) {
      if (await create(path, holder)) return
      const current = await readLockFile(path)
      if (current === undefined || (await this.#breakIfAbandoned(path, current))) continue
      if (Date.now() >= deadline) {
        const by = current.holder ? ` by process ${current.holder.pid} on ${current.holder.host}` : ''
        const error = new Error(`${path} is held${by}; gave up after ${this.#timeout} ms`)
        error.name = 'TimeoutError'
        throw error
      }
      await sleep(pause + Math.random() * pause)
      pause = Math.min(pause * 2, 100)
    }
  }

  async #breakIfAbandoned(path: string, current: LockFile): Promise<boolean> {
    const { holder } = current
    const isDead = holder !== undefined && holder.host === hostname() && !isRunning(holder.pid)
    if (!isDead && Date.now() - current.modifiedAt <= this.#staleAge) return false
    // Read again just before removing: a waiter that broke the same lock first may hold a new one.
    const again = await readLockFile(path)
    if (again !== undefined && again.text === current.text) await rm(path, { force: true })
    return true
  }
}

interface LockFile {
  text: string
  /** Undefined while the creator has not written it yet, or when it is damaged. */
  holder: Holder | undefined
  modifiedAt: number
}

/** Creates the lock file; false when it exists. */
async function create(path: string, holder: Holder): Promise<boolean> {
  let file: Awaited<ReturnType<typeof open>>
  try {
    file = await open(path, 'wx', 0o600)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw error
  }
  try {
    await file.writeFile(JSON.stringify(holder), 'utf8')
  } catch (error) {
    await file.close().catch(() => {})
    await rm(path, { force: true })
    throw error
  }
  await file.close()
  return true
}

async function readLockFile(path: string): Promise<LockFile | undefined> {
  try {
    const [text, stats] = await Promise.all([readFile(path, 'utf8'), stat(path)])
    return { text, holder: parseHolder(text), modifiedAt: stats.mtimeMs }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

/** Removes the lock file if it is still this holder's (it is not when it was broken as abandoned). */
async function release(path: string, holder: Holder): Promise<void> {
  try {
    const current = await readLockFile(path)
    if (current?.holder?.token === holder.token) await rm(path, { force: true })
  } catch {
    // Left behind, the file is broken as abandoned once it has not been refreshed for staleAge.
  }
}

function parseHolder(text: string): Holder | undefined {
  try {
    const value = JSON.parse(text) as Partial<Holder>
    if (Number.isInteger(value.pid) && typeof value.host === 'string' && typeof value.token === 'string')
      return value as Holder
  } catch {
    // Empty (its creator has not written it yet) or damaged: only its age tells.
  }
  return undefined
}

/** Whether a process of this host exists; signal 0 only asks. EPERM: it exists, as another user. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
