import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { migrateToLatest, openDatabase } from '../../src/store/connect.ts'
import { createKyselyStore } from '../../src/store/kysely/kysely-store.ts'
import { createTestDatabase, postgresUnreachable, skipUnlessPostgres } from '../support/postgres.ts'
import { defineStoreSuite } from './store-suite.ts'

// Skips with the reason when PostgreSQL is down, except in CI, where the suite runs and fails.
describe('PostgreSQL', { skip: await skipUnlessPostgres() }, () => {
  // Counts as one plain failure in CI when the server is down (the suite's tests are then cancelled).
  it('is reachable', async () => {
    assert.equal(await postgresUnreachable(), undefined)
  })

  defineStoreSuite('store on PostgreSQL', async () => {
    const database = await createTestDatabase({ prefix: 'onramp_store' })
    const { db, dialect } = openDatabase({ databaseUrl: database.url })
    try {
      assert.equal(dialect, 'postgres')
      const migrated = await migrateToLatest(db)
      return {
        store: createKyselyStore(db),
        migrated,
        migrate: () => migrateToLatest(db),
        cleanup: async () => {
          // Close the pool before dropping: the database must have no sessions left.
          await db.destroy()
          await database.drop()
        },
      }
    } catch (error) {
      await db.destroy()
      await database.drop()
      throw error
    }
  })
})
