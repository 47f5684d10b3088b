import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import { loadConfig } from '../../src/config/config.ts'
import type { ServiceEdges, Services } from '../../src/domain/services.ts'
import { type Runtime, startServer } from '../../src/runtime.ts'
import { openDatabase, sqlitePathIn } from '../../src/store/connect.ts'
import type { Database } from '../../src/store/database.ts'

export interface TestServerOptions {
  /**
   * `ONRAMP_*` variables on top of the test defaults (port, host, public URL, data dir, log level,
   * admin token), e.g. `ONRAMP_DATABASE_URL` and `ONRAMP_MASTER_KEY` for PostgreSQL, or
   * `ONRAMP_REDIS_URL`. An `ONRAMP_PUBLIC_URL` makes the node one of a cluster behind that URL.
   */
  env?: Record<string, string | undefined>
  /**
   * The public URL's host instead of `127.0.0.1`, with the port the server listens on: `localhost`
   * for browsers' WebAuthn, which refuses IP addresses.
   */
  publicHost?: string
  /** Stand-ins for outside systems (Apple push). */
  edges?: ServiceEdges
}

export interface TestServer {
  /** Where this server listens, `http://127.0.0.1:{port}`. */
  url: string
  /** Its public URL: `url`, unless the options named another (a cluster's shared URL). */
  publicUrl: string
  /** Issuer identifier of a tenant, `{publicUrl}/t/{tenant}`. */
  issuer(tenant?: string): string
  adminToken: string
  runtime: Runtime
  services: Services
  /** Rows per table, read through a separate connection: what a request really left in the database. */
  countRows(table: keyof Database, where?: { tenantId: string }): Promise<number>
  close(): Promise<void>
}

/** A port nothing listens on right now: the OS picks one, and we let it go again. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.unref()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() => {
        if (address && typeof address === 'object') resolve(address.port)
        else reject(new Error('no port assigned'))
      })
    })
  })
}

/**
 * Starts the real server in this process on a free port, whose number is part of the public URL
 * (so issuers and DPoP `htu` values match what clients call), with its own temporary data folder.
 */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'onramp-e2e-'))
  const adminToken = randomBytes(24).toString('base64url')
  try {
    const { runtime, url } = await listenOnFreePort(dataDir, adminToken, options)
    const { db } = runtime.config.databaseUrl
      ? openDatabase({ databaseUrl: runtime.config.databaseUrl })
      : openDatabase({ sqlitePath: sqlitePathIn(dataDir) })
    const { publicUrl } = runtime.config
    return {
      url,
      publicUrl,
      issuer: (tenant = 'demo') => `${publicUrl}/t/${tenant}`,
      adminToken,
      runtime,
      services: runtime.services,
      countRows: async (table, where) => {
        const query = db.selectFrom(table).select(sql<string | number>`count(*)`.as('n'))
        const row = await (where
          ? query.where('tenant_id', '=', where.tenantId)
          : query
        ).executeTakeFirstOrThrow()
        return Number(row.n)
      },
      close: async () => {
        await db.destroy()
        await runtime.close()
        await rm(dataDir, { recursive: true, force: true })
      },
    }
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true })
    throw error
  }
}

async function listenOnFreePort(
  dataDir: string,
  adminToken: string,
  { env = {}, publicHost, edges }: TestServerOptions,
): Promise<{ runtime: Runtime; url: string }> {
  // Another process may take the port between probing and listening: try again with a new one.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    const config = loadConfig({
      env: {
        ONRAMP_PORT: String(port),
        ONRAMP_HOST: '127.0.0.1',
        ONRAMP_PUBLIC_URL: publicHost ? `http://${publicHost}:${port}` : url,
        ONRAMP_DATA_DIR: dataDir,
        ONRAMP_LOG_LEVEL: 'silent',
        ONRAMP_ADMIN_TOKEN: adminToken,
        ...env,
      },
      argv: [],
    })
    try {
      return { runtime: await startServer(config, edges), url }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt === 5) throw error
    }
  }
}
