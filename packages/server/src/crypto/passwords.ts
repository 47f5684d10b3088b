import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import type { Algorithm } from '@node-rs/argon2'
import type { PasswordJob, PasswordResult } from './password-worker.ts'

/**
 * Argon2id with the parameters OWASP recommends as a minimum (19 MiB, 2 passes, 1 lane). The
 * package's `Algorithm` is a const enum that has no runtime value: 2 is Argon2id.
 */
const options = { algorithm: 2 as Algorithm, memoryCost: 19_456, timeCost: 2, parallelism: 1 }

/**
 * Each hash takes tens of milliseconds of CPU, so hashing runs on worker threads of its own rather
 * than on libuv's pool, which the server sizes for ES256 (thread-pool.ts): a burst of sign-ins
 * then queues behind itself instead of holding up every token request. Threads start on first use
 * and do not keep the process alive.
 */
class PasswordThreads {
  readonly #size = Math.max(1, Math.min(4, availableParallelism() - 1))
  readonly #threads: { worker: Worker; pending: Map<number, (result: PasswordResult) => void> }[] = []
  #nextId = 0

  run(job: Omit<PasswordJob, 'id'>): Promise<string | boolean> {
    const thread = this.#leastBusy()
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      if (thread.pending.size === 0) thread.worker.ref()
      thread.pending.set(id, (result) =>
        'error' in result ? reject(new Error(result.error)) : resolve(result.value),
      )
      thread.worker.postMessage({ ...job, id } satisfies PasswordJob)
    })
  }

  #leastBusy() {
    const idle = this.#threads.find((thread) => thread.pending.size === 0)
    if (idle) return idle
    if (this.#threads.length >= this.#size) {
      return this.#threads.reduce((a, b) => (b.pending.size < a.pending.size ? b : a))
    }
    const worker = new Worker(new URL('./password-worker.ts', import.meta.url))
    const thread = { worker, pending: new Map<number, (result: PasswordResult) => void>() }
    worker.on('message', (result: PasswordResult) => {
      thread.pending.get(result.id)?.(result)
      thread.pending.delete(result.id)
      if (thread.pending.size === 0) worker.unref()
    })
    worker.on('error', (error) => {
      for (const settle of thread.pending.values()) settle({ id: -1, error: error.message })
      this.#threads.splice(this.#threads.indexOf(thread), 1)
    })
    this.#threads.push(thread)
    return thread
  }
}

const threads = new PasswordThreads()

export async function hashPassword(password: string): Promise<string> {
  return (await threads.run({ op: 'hash', password, options })) as string
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return (await threads.run({ op: 'verify', password, hash: passwordHash })) === true
  } catch {
    // A malformed stored hash matches no password.
    return false
  }
}

let dummy: Promise<string> | undefined

/**
 * Verifies `password` against a hash no password matches, taking as long as a real check: a
 * sign-in with an unknown email costs what one with a known email does, so timing does not
 * tell which emails have accounts.
 */
export async function verifyDummyPassword(password: string): Promise<false> {
  dummy ??= hashPassword(`dummy:${crypto.randomUUID()}`)
  await verifyPassword(await dummy, password)
  return false
}
