import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe } from 'node:test'
import { migrateToLatest, openDatabase } from '../../src/store/connect.ts'
import { createKyselyStore } from '../../src/store/kysely/kysely-store.ts'
import { createTestDatabase, skipUnlessPostgres } from '../support/postgres.ts'
import { defineAppleStoreSuite } from './apple-store-suite.ts'

defineAppleStoreSuite('Apple stores on SQLite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'onramp-apple-store-'))
  const { db } = openDatabase({ sqlitePath: join(dir, 'onramp.db') })
  await migrateToLatest(db)
  return {
    store: createKyselyStore(db, { groupCommit: true }),
    cleanup: async () => {
      await db.destroy()
      await rm(dir, { recursive: true, force: true })
    },
  }
})

describe('PostgreSQL', { skip: await skipUnlessPostgres() }, () => {
  defineAppleStoreSuite('Apple stores on PostgreSQL', async () => {
    const database = await createTestDatabase({ prefix: 'onramp_apple' })
    const { db } = openDatabase({ databaseUrl: database.url })
    try {
      await migrateToLatest(db)
    } catch (error) {
      await db.destroy()
      await database.drop()
      throw error
    }
    return {
      store: createKyselyStore(db),
      cleanup: async () => {
        await db.destroy()
        await database.drop()
      },
    }
  })
})
