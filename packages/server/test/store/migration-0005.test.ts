import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { sql } from 'kysely'
import { Migrator } from 'kysely/migration'
import { migrateToLatest, openDatabase } from '../../src/store/connect.ts'
import { createKyselyStore } from '../../src/store/kysely/kysely-store.ts'
import { migrationProvider } from '../../src/store/migrations/index.ts'

describe('migration 0005 (progressive authentication)', () => {
  it('gives tenants that existed before it the merge policy none, and keeps their settings', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'onramp-migration-'))
    const { db } = openDatabase({ sqlitePath: join(dir, 'onramp.db') })
    try {
      const migrator = new Migrator({
        db,
        provider: migrationProvider,
        migrationTableName: 'onramp_migrations',
        migrationLockTableName: 'onramp_migrations_lock',
      })
      const { error } = await migrator.migrateTo('0004-profile-attributes')
      if (error) throw error
      const before = {
        accessTokenTtl: 120,
        refreshTokenIdleTtl: 60,
        refreshTokenAbsoluteTtl: 600,
        dpopNonce: true,
        anonymousInactivityDays: 7,
      }
      await sql`insert into tenants (id, name, settings, created_at) values ('old', 'Old', ${JSON.stringify(before)}, 1)`.execute(
        db,
      )
      assert.ok((await migrateToLatest(db)).includes('0005-progressive-authentication'))
      const tenant = await createKyselyStore(db).tenants.get('old')
      assert.deepEqual(tenant?.settings, { ...before, mergePolicy: 'none' })
    } finally {
      await db.destroy()
      await rm(dir, { recursive: true, force: true })
    }
  })
})
