import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, describe, it } from 'node:test'
import {
  createTestDatabase,
  postgresUnreachable,
  skipUnlessPostgres,
  type TestDatabase,
} from '../support/postgres.ts'
import { startTestServer } from '../support/server.ts'
import { defineLinkingTests } from './linking-suite.ts'

describe('linking identities to profiles on SQLite', () => {
  defineLinkingTests(() => startTestServer())
})

// Skips with the reason when PostgreSQL is down, except in CI, where the tests run and fail.
describe('linking identities to profiles on PostgreSQL', { skip: await skipUnlessPostgres() }, () => {
  let database: TestDatabase | undefined

  it('is reachable', async () => {
    assert.equal(await postgresUnreachable(), undefined)
  })

  defineLinkingTests(async () => {
    database = await createTestDatabase({ prefix: 'onramp_linking' })
    return startTestServer({
      env: { ONRAMP_DATABASE_URL: database.url, ONRAMP_MASTER_KEY: randomBytes(32).toString('hex') },
    })
  })
  // Registered after the suite's own hooks, so the server has closed its pool first.
  after(() => database?.drop())
})
