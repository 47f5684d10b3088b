import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { migrateToLatest, openDatabase } from '../../src/store/connect.ts'
import { createKyselyStore } from '../../src/store/kysely/kysely-store.ts'
import { defineStoreSuite } from './store-suite.ts'

for (const groupCommit of [false, true]) {
  defineStoreSuite(`store on SQLite${groupCommit ? ' with group commit' : ''}`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'onramp-store-'))
    const { db, dialect } = openDatabase({ sqlitePath: join(dir, 'onramp.db') })
    try {
      assert.equal(dialect, 'sqlite')
      const migrated = await migrateToLatest(db)
      return {
        store: createKyselyStore(db, { groupCommit }),
        migrated,
        migrate: () => migrateToLatest(db),
        cleanup: async () => {
          await db.destroy()
          await rm(dir, { recursive: true, force: true })
        },
      }
    } catch (error) {
      await db.destroy()
      await rm(dir, { recursive: true, force: true })
      throw error
    }
  })
}
