import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { type Config, decodeMasterKey } from './config/config.ts'
import { seedDemoTenant } from './domain/demo-seed.ts'
import { sweepExpired, sweepInactiveProfiles } from './domain/maintenance.ts'
import { createServices, type ServiceEdges, type Services } from './domain/services.ts'
import type { EphemeralStore } from './ephemeral/ephemeral-store.ts'
import { MemoryEphemeralStore } from './ephemeral/memory-ephemeral-store.ts'
import { RedisEphemeralStore } from './ephemeral/redis-ephemeral-store.ts'
import { buildAdminApp, registerAdminRoutes } from './http/admin/admin-routes.ts'
import { buildApp } from './http/app.ts'
import { migrateToLatest, openDatabase, sqlitePathIn } from './store/connect.ts'
import { createKyselyStore } from './store/kysely/kysely-store.ts'

/** How often expired refresh tokens, unpublished keys and inactive anonymous profiles are deleted. */
const sweepMilliseconds = 10 * 60 * 1000

export interface Runtime {
  config: Config
  services: Services
  app: FastifyInstance
  adminApp: FastifyInstance | undefined
  /** The admin token, and whether it was generated now (so it is shown once). */
  admin: { token: string; generated: boolean }
  seeded: boolean
  close(): Promise<void>
}

/** Opens storage, applies migrations, wires the services; used by the server, the CLI and tests. */
export async function openServices(config: Config, edges: ServiceEdges = {}): Promise<Services> {
  const { db, dialect } = openDatabase(
    config.databaseUrl ? { databaseUrl: config.databaseUrl } : { sqlitePath: sqlitePathIn(config.dataDir) },
  )
  let ephemeral: EphemeralStore | undefined
  try {
    await migrateToLatest(db)
    ephemeral = config.redisUrl ? new RedisEphemeralStore(config.redisUrl) : new MemoryEphemeralStore()
    return createServices({
      store: createKyselyStore(db, { groupCommit: dialect === 'sqlite' }),
      ephemeral,
      masterKey: loadMasterKey(config),
      publicUrl: config.publicUrl,
      dpopProofMaxAge: config.dpopProofMaxAge,
      enrollmentLimits: config.enrollmentRateLimit
        ? {
            perIp: config.enrollmentLimitPerIp,
            perTenant: config.enrollmentLimitPerTenant,
            windowSeconds: config.enrollmentLimitWindow,
          }
        : undefined,
      ...edges,
    })
  } catch (error) {
    await ephemeral?.close()
    await db.destroy()
    throw error
  }
}

export async function closeServices(services: Services): Promise<void> {
  await services.ephemeral.close()
  await services.store.close()
}

/** Starts the server: listening on the configured port(s), demo tenant seeded on an empty database. */
export async function startServer(config: Config, edges: ServiceEdges = {}): Promise<Runtime> {
  const services = await openServices(config, edges)
  const seeded = config.seedDemo ? await seedDemoTenant(services, { shopURL: config.demoShopUrl }) : false
  const admin = loadAdminToken(config)
  const appOptions = {
    services,
    logLevel: config.logLevel,
    bodyLimit: config.bodyLimit,
    requestTimeout: config.requestTimeout,
    trustProxy: config.trustProxy,
  }
  const adminApp = config.adminPort !== undefined ? buildAdminApp(appOptions, admin.token) : undefined
  const app = buildApp({ ...appOptions, ...(adminApp && { metricsOn: adminApp }) })
  if (!adminApp) registerAdminRoutes(app, services, admin.token)
  try {
    await app.listen({ port: config.port, host: config.host })
    if (adminApp) await adminApp.listen({ port: config.adminPort!, host: config.host })
  } catch (error) {
    await app.close()
    await adminApp?.close()
    await closeServices(services)
    throw error
  }
  // One sweep at a time: a long one is not joined by the next. Closing stops it between batches.
  let sweeping: Promise<void> | undefined
  const stopSweeping = new AbortController()
  const sweeper = setInterval(() => {
    sweeping ??= sweep(services, app.log, stopSweeping.signal).finally(() => {
      sweeping = undefined
    })
  }, sweepMilliseconds)
  sweeper.unref()
  return {
    config,
    services,
    app,
    adminApp,
    admin,
    seeded,
    close: async () => {
      clearInterval(sweeper)
      stopSweeping.abort()
      await sweeping
      await app.close()
      await adminApp?.close()
      await closeServices(services)
    },
  }
}

async function sweep(services: Services, log: FastifyBaseLogger, signal: AbortSignal): Promise<void> {
  try {
    log.debug(await sweepExpired(services.store, services.clock), 'swept expired tokens and keys')
    const swept = await sweepInactiveProfiles(services.store, services.clock, { signal })
    for (const { tenantId, deleted } of swept) {
      if (deleted.profiles > 0) log.info({ tenant: tenantId, deleted }, 'deleted inactive anonymous profiles')
    }
  } catch (error) {
    log.warn({ err: error }, 'sweep failed')
  }
}

/** The master key: configured, else generated once into the data folder (mode 0600). */
function loadMasterKey(config: Config): Buffer {
  if (config.masterKey) return decodeMasterKey(config.masterKey)!
  const path = join(config.dataDir, 'master.key')
  if (!existsSync(path)) {
    if (config.databaseUrl) {
      throw new Error('ONRAMP_MASTER_KEY is required with ONRAMP_DATABASE_URL: every node must share it')
    }
    mkdirSync(config.dataDir, { recursive: true })
    writeFileSync(path, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' })
  }
  const key = decodeMasterKey(readFileSync(path, 'utf8').trim())
  if (!key) throw new Error(`${path} does not hold a 32-byte key`)
  return key
}

function loadAdminToken(config: Config): { token: string; generated: boolean } {
  if (config.adminToken) return { token: config.adminToken, generated: false }
  const path = join(config.dataDir, 'admin.token')
  if (existsSync(path)) return { token: readFileSync(path, 'utf8').trim(), generated: false }
  const token = randomBytes(32).toString('base64url')
  mkdirSync(config.dataDir, { recursive: true })
  writeFileSync(path, token, { mode: 0o600, flag: 'wx' })
  return { token, generated: true }
}
