import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AppError } from '../../src/errors/app-error.ts'
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

  // SQLite keeps a NUL character in text; PostgreSQL cannot, and says so with an error of its own.
  it('refuses text with a NUL character as invalid input, and goes on working', async () => {
    const database = await createTestDatabase({ prefix: 'onramp_store' })
    const { db } = openDatabase({ databaseUrl: database.url })
    try {
      await migrateToLatest(db)
      const store = createKyselyStore(db)
      const invalidInput = (error: unknown) => error instanceof AppError && error.code === 'invalid_input'
      await assert.rejects(store.tenants.get('demo\u0000'), invalidInput)
      await assert.rejects(
        store.transaction((stores) => stores.tenants.get('demo\u0000')),
        invalidInput,
      )
      // Neither the pool's connections nor a transaction are left in an aborted state.
      for (let i = 0; i < 12; i++) assert.equal(await store.tenants.get('demo'), undefined)
      assert.equal(await store.transaction((stores) => stores.tenants.get('demo')), undefined)
    } finally {
      await db.destroy()
      await database.drop()
    }
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
