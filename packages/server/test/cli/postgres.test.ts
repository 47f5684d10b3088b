import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { migrationProvider } from '../../src/store/migrations/index.ts'
import { startTestServer, type TestServer } from '../admin/admin-harness.ts'
import { createTestDatabase, skipUnlessPostgres, type TestDatabase } from '../support/postgres.ts'
import { onramp, onrampJSON } from './cli-harness.ts'

// Skips with the reason when PostgreSQL is down, except in CI, where the tests run and fail.
describe('onramp on PostgreSQL', { skip: await skipUnlessPostgres() }, () => {
  let database: TestDatabase
  let env: Record<string, string>
  let server: TestServer | undefined
  before(async () => {
    database = await createTestDatabase({ prefix: 'onramp_cli' })
    env = { ONRAMP_DATABASE_URL: database.url, ONRAMP_MASTER_KEY: randomBytes(32).toString('hex') }
  })
  after(async () => {
    await server?.close()
    await database?.drop()
  })

  it('migrates, creates a tenant that a server on the same database serves, and rotates its key', async () => {
    const migrated = await onrampJSON(['migrate'], env)
    assert.deepEqual(migrated.applied, Object.keys(await migrationProvider.getMigrations()))
    await onrampJSON(['tenants', 'create', 'pg-cli'], env)
    const rotated = await onrampJSON(['keys', 'rotate', '--tenant', 'pg-cli'], env)
    assert.equal(rotated.keys.length, 2)

    server = await startTestServer({ env })
    const tenant = await server.admin('GET', '/tenants/pg-cli')
    assert.equal(tenant.status, 200)
    const jwks = (await (await fetch(`${server.url}/t/pg-cli/jwks`)).json()) as { keys: { kid: string }[] }
    assert.equal(jwks.keys.length, 2)
    assert.ok(jwks.keys.some((k) => k.kid === rotated.kid))
  })

  it('reports an unreachable database in one line with exit code 1', async () => {
    const result = await onramp(['tenants', 'list'], {
      ...env,
      ONRAMP_DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
    })
    assert.equal(result.code, 1)
    assert.match(result.stderr, /^onramp: tenants list failed: .+\n$/)
  })
})
