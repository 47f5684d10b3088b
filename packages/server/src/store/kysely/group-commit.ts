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
 * the units of work that arrive while one batch runs are run together as the next batch, in one
 * transaction. Callers are answered only after the COMMIT, so nothing is reported written before
 * it is.
 *
 * A batch first runs without savepoints: a savepoint copies every page a unit touches, which
 * costs about a quarter of an enrollment's database work, and units rarely fail. If one does, the
 * whole transaction is rolled back and the batch runs again with each unit in its own savepoint,
 * so that only the failed unit's writes are undone and its caller alone gets the error. Units
 * may therefore run twice; like transactions PostgreSQL retries after a conflict, they only read
 * and write the store.
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
      // A lone unit needs no savepoint: its failure rolls back only its own writes.
      if (!(await this.#runBatch(batch, { savepoints: false })))
        await this.#runBatch(batch, { savepoints: true })
    }
    this.#running = false
  }

  /**
   * Runs the batch in one transaction and answers every caller, except when a unit fails in a
   * batch of several without savepoints: then nothing is kept or answered, and it returns false.
   */
  async #runBatch(batch: Pending[], { savepoints }: { savepoints: boolean }): Promise<boolean> {
    const outcomes: { ok: boolean; value: unknown }[] = []
    let unitFailed = false
    try {
      const trx = await this.#db.startTransaction().execute()
      try {
        for (const pending of batch) {
          if (!savepoints) {
            try {
              outcomes.push({ ok: true, value: await pending.work(trx) })
            } catch (error) {
              unitFailed = true
              throw error
            }
            continue
          }
          // Plain statements rather than Kysely's savepoint objects: one unit is one savepoint,
          // named alike each time.
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
      if (unitFailed && batch.length > 1) return false
      for (const pending of batch) pending.reject(error)
      return true
    }
    for (const [i, pending] of batch.entries()) {
      const outcome = outcomes[i]!
      if (outcome.ok) pending.resolve(outcome.value)
      else pending.reject(outcome.value)
    }
    return true
  }
}
