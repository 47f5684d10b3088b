import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Kysely } from 'kysely'
import { loadConfig } from '../../src/config/config.ts'
import type { Services } from '../../src/domain/services.ts'
import { closeServices, openServices } from '../../src/runtime.ts'
import { openDatabase, sqlitePathIn } from '../../src/store/connect.ts'
import type { Database } from '../../src/store/database.ts'
import { createTestDatabase } from './postgres.ts'

export type Backend = 'sqlite' | 'postgres'

export interface TestServices {
  services: Services
  /** A second connection to the same database, to arrange rows no service writes (old activity). */
  db: Kysely<Database>
  close(): Promise<void>
}

/**
 * The services as the server and the CLI open them (migrations applied), without HTTP: on SQLite
 * in a temporary data folder, or on a throwaway PostgreSQL database.
 */
export async function openTestServices(backend: Backend): Promise<TestServices> {
  const dataDir = await mkdtemp(join(tmpdir(), 'onramp-services-'))
  const database =
    backend === 'postgres' ? await createTestDatabase({ prefix: 'onramp_services' }) : undefined
  const env: Record<string, string> = { ONRAMP_DATA_DIR: dataDir }
  if (database) {
    env.ONRAMP_DATABASE_URL = database.url
    env.ONRAMP_MASTER_KEY = randomBytes(32).toString('hex')
  }
  const cleanup = async (): Promise<void> => {
    await database?.drop()
    await rm(dataDir, { recursive: true, force: true })
  }
  try {
    const services = await openServices(loadConfig({ env, argv: [] }))
    const { db } = database
      ? openDatabase({ databaseUrl: database.url })
      : openDatabase({ sqlitePath: sqlitePathIn(dataDir) })
    return {
      services,
      db,
      close: async () => {
        await db.destroy()
        await closeServices(services)
        await cleanup()
      },
    }
  } catch (error) {
    await cleanup()
    throw error
  }
}
