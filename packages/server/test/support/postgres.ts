import { randomBytes } from 'node:crypto'
import pg from 'pg'

/**
 * PostgreSQL for tests: each run gets its own throwaway database, created from an admin connection.
 * The admin URL is `ONRAMP_TEST_DATABASE_URL`, else the local trust-auth server used in CI.
 */
export const adminDatabaseUrl: string =
  process.env.ONRAMP_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test'

export interface TestDatabase {
  /** Connection URL of the new, empty database. */
  url: string
  name: string
  /** Drops the database. Close every pool on it first (lingering sessions are terminated anyway). */
  drop: () => Promise<void>
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return '<unparsable database URL>'
  }
}

async function withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminDatabaseUrl, connectionTimeoutMillis: 5000 })
  try {
    await client.connect()
  } catch (error) {
    await client.end().catch(() => {})
    throw new Error(
      `PostgreSQL is not reachable at ${redactUrl(adminDatabaseUrl)} (${(error as Error).message}); ` +
        'start it or set ONRAMP_TEST_DATABASE_URL',
      { cause: error },
    )
  }
  try {
    return await work(client)
  } finally {
    await client.end()
  }
}

/** Undefined when PostgreSQL answers at the admin URL, else why not. */
export async function postgresUnreachable(): Promise<string | undefined> {
  try {
    await withAdmin((client) => client.query('select 1'))
    return undefined
  } catch (error) {
    return (error as Error).message
  }
}

/**
 * The `skip` option for a `describe` that needs PostgreSQL: false when it answers, and in CI
 * (`CI` set), where the tests must run and fail rather than pass by skipping; else the reason.
 */
export async function skipUnlessPostgres(): Promise<string | false> {
  const reason = await postgresUnreachable()
  if (reason === undefined) return false
  if (process.env.CI) {
    console.error(`CI is set, so not skipping: ${reason}`)
    return false
  }
  return `skipped: ${reason}`
}

/** Creates `{prefix}_{random}` on the server of the admin URL. */
export async function createTestDatabase(options: { prefix?: string } = {}): Promise<TestDatabase> {
  const prefix = options.prefix ?? 'onramp_store'
  if (!/^[a-z_][a-z0-9_]*$/.test(prefix)) throw new Error(`invalid database name prefix: ${prefix}`)
  const name = `${prefix}_${randomBytes(6).toString('hex')}`
  await withAdmin((client) => client.query(`CREATE DATABASE "${name}"`))
  const url = new URL(adminDatabaseUrl)
  url.pathname = `/${name}`
  let dropped = false
  return {
    url: url.toString(),
    name,
    drop: async () => {
      if (dropped) return
      await withAdmin(async (client) => {
        // A closed pg pool still has connections saying goodbye: terminated now, their clients
        // would raise an uncaught error. So wait a little for them to go; only then, WITH (FORCE)
        // (PostgreSQL 13+) terminates what a test left open.
        for (let attempt = 0; attempt < 20; attempt++) {
          try {
            await client.query(`DROP DATABASE IF EXISTS "${name}"`)
            return
          } catch (error) {
            if ((error as { code?: string }).code !== '55006') throw error
            await new Promise((resolve) => setTimeout(resolve, 25))
          }
        }
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
      })
      dropped = true
    },
  }
}
