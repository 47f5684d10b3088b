import { parentPort } from 'node:worker_threads'
import { type Algorithm, hashSync, verifySync } from '@node-rs/argon2'

/** Runs one Argon2id job at a time for crypto/passwords.ts; see there. */
export interface PasswordJob {
  id: number
  op: 'hash' | 'verify'
  password: string
  /** The stored hash, for `verify`. */
  hash?: string
  options?: { algorithm: Algorithm; memoryCost: number; timeCost: number; parallelism: number }
}

export type PasswordResult = { id: number; value: string | boolean } | { id: number; error: string }

parentPort?.on('message', (job: PasswordJob) => {
  let result: PasswordResult
  try {
    const value =
      job.op === 'hash' ? hashSync(job.password, job.options) : verifySync(job.hash ?? '', job.password)
    result = { id: job.id, value }
  } catch (error) {
    result = { id: job.id, error: (error as Error).message }
  }
  parentPort!.postMessage(result)
})
