import { CompiledQuery, type Kysely } from 'kysely'
import type { Database } from '../database.ts'

const savepoint = CompiledQuery.raw('savepoint unit')
const release = CompiledQuery.raw('release savepoint unit')
const rollbackToSavepoint = CompiledQuery.raw('rollback to savepoint unit')

type Work<T> = (trx: Kysely<Database>) => Promise<T>

interface Pending {
  work: Work<unknown>
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
}

/**
 * Group commit for SQLite. SQLite runs one write transaction at a time, and on this path the
 * cost of a transaction is mostly its COMMIT (the WAL frames written for every touched page). So
 * the units of work that arrive while one batch runs are run together as the next batch: one
 * transaction, each unit inside its own savepoint. A unit that fails is rolled back to its
 * savepoint alone and its caller gets the error; the others commit. Callers are answered only
 * after the COMMIT, so nothing is reported written before it is.
 */
export class GroupCommit {
  readonly #db: Kysely<Database>
  #queue: Pending[] = []
  #running = false

  constructor(db: Kysely<Database>) {
    this.#db = db
  }

  run<T>(work: Work<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, resolve: resolve as (value: unknown) => void, reject })
      if (!this.#running) {
        this.#running = true
        setImmediate(() => void this.#drain())
      }
    })
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue
      this.#queue = []
      await this.#runBatch(batch)
    }
    this.#running = false
  }

  async #runBatch(batch: Pending[]): Promise<void> {
    const outcomes: { ok: boolean; value: unknown }[] = []
    try {
      const trx = await this.#db.startTransaction().execute()
      try {
        for (const pending of batch) {
          // Plain statements rather than Kysely's savepoint objects: one unit is one savepoint,
          // named alike each time, and its bookkeeping showed on the enrollment path.
          await trx.executeQuery(savepoint)
          try {
            outcomes.push({ ok: true, value: await pending.work(trx) })
            await trx.executeQuery(release)
          } catch (error) {
            outcomes.push({ ok: false, value: error })
            await trx.executeQuery(rollbackToSavepoint)
            await trx.executeQuery(release)
          }
        }
        await trx.commit().execute()
      } catch (error) {
        await trx.rollback().execute()
        throw error
      }
    } catch (error) {
      for (const pending of batch) pending.reject(error)
      return
    }
    for (const [i, pending] of batch.entries()) {
      const outcome = outcomes[i]!
      if (outcome.ok) pending.resolve(outcome.value)
      else pending.reject(outcome.value)
    }
  }
}
