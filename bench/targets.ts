import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type ChildHandle,
  freePort,
  processCpuSeconds,
  removeTempDir,
  startChild,
  stopChild,
  trackTempDir,
  waitForHttp,
} from './lib/child-process.ts'
import { type BenchIssuer, startBenchIssuer } from './lib/resource-inputs.ts'

export interface RunningTarget {
  baseUrl: string
  /** CPU seconds the target's own process has used so far; undefined for in-process targets. */
  cpuSeconds(): number | undefined
  stop(): Promise<void>
}

export interface PeerTarget extends RunningTarget {
  clientId: string
  clientSecret: string
  resource: string
  scope: string
}

export interface OursTarget extends RunningTarget {
  tenant: string
  clientId: string
  audience: string
}

/** In-process scenarios of `@onramp/resource`: only a stand-in issuer serving its JWKS on 127.0.0.1. */
export interface ResourceTarget extends RunningTarget {
  issuer: BenchIssuer
}

export interface TargetMap {
  peer: PeerTarget
  ours: OursTarget
  resource: ResourceTarget
  /** The bare endpoint of bench/floor: answers our token-endpoint scenarios as our server would. */
  floor: OursTarget
}

export type TargetName = keyof TargetMap

const PEER_ENTRY = 'bench/peer/oidc-provider-server.ts'
const OURS_ENTRY = 'packages/server/src/main.ts'
const FLOOR_ENTRY = 'bench/floor/dpop-token-floor.ts'

export async function startPeer(): Promise<PeerTarget> {
  const port = await freePort()
  const target = {
    baseUrl: `http://127.0.0.1:${port}`,
    clientId: 'bench-client',
    clientSecret: randomBytes(24).toString('base64url'),
    resource: 'https://api.bench.example/',
    scope: 'api:read',
  }
  const child = startChild('oidc-provider', [PEER_ENTRY], {
    BENCH_PEER_PORT: String(port),
    BENCH_PEER_CLIENT_ID: target.clientId,
    BENCH_PEER_CLIENT_SECRET: target.clientSecret,
    BENCH_PEER_RESOURCE: target.resource,
    BENCH_PEER_SCOPE: target.scope,
    // oidc-provider's diagnostics go through `debug`; make sure nothing inherited turns them on.
    DEBUG: '',
  })
  await waitOrStop(child, `${target.baseUrl}/.well-known/openid-configuration`)
  return { ...target, cpuSeconds: () => processCpuSeconds(child.process.pid), stop: () => stopChild(child) }
}

export async function startOurs(): Promise<OursTarget> {
  if (!existsSync(OURS_ENTRY)) {
    throw new Error(`${OURS_ENTRY} does not exist yet; run with BENCH_ONLY=peer`)
  }
  return startWithDataDir({
    name: 'onramp server',
    entry: OURS_ENTRY,
    readyTimeoutMs: 60_000,
    ids: { tenant: 'demo', clientId: 'demo-app', audience: 'demo-api' },
    env: (port, baseUrl, dataDir) => ({
      ONRAMP_PORT: String(port),
      ONRAMP_HOST: '127.0.0.1',
      ONRAMP_PUBLIC_URL: baseUrl,
      ONRAMP_DATA_DIR: dataDir,
      ONRAMP_ENROLLMENT_RATE_LIMIT: 'off',
      ONRAMP_LOG_LEVEL: 'warn',
      ONRAMP_ADMIN_TOKEN: randomBytes(24).toString('base64url'),
    }),
  })
}

export function startFloor(): Promise<OursTarget> {
  return startWithDataDir({
    name: 'floor',
    entry: FLOOR_ENTRY,
    ids: { tenant: 'floor', clientId: 'floor-app', audience: 'floor-api' },
    env: (port, _baseUrl, dataDir) => ({
      BENCH_FLOOR_PORT: String(port),
      BENCH_FLOOR_DATABASE: join(dataDir, 'floor.db'),
    }),
  })
}

/**
 * Our server or the floor: `entry` on a free port with a temporary data folder, which goes when the
 * target stops (or fails to start), ready once `/readyz` answers.
 */
async function startWithDataDir(options: {
  name: string
  entry: string
  ids: { tenant: string; clientId: string; audience: string }
  env: (port: number, baseUrl: string, dataDir: string) => Record<string, string>
  readyTimeoutMs?: number
}): Promise<OursTarget> {
  const port = await freePort()
  const baseUrl = `http://127.0.0.1:${port}`
  const dataDir = await mkdtemp(join(tmpdir(), 'onramp-bench-'))
  trackTempDir(dataDir)
  const child = startChild(options.name, [options.entry], options.env(port, baseUrl, dataDir))
  try {
    await waitOrStop(child, `${baseUrl}/readyz`, options.readyTimeoutMs)
  } catch (error) {
    removeTempDir(dataDir)
    throw error
  }
  return {
    baseUrl,
    ...options.ids,
    cpuSeconds: () => processCpuSeconds(child.process.pid),
    stop: async () => {
      await stopChild(child)
      removeTempDir(dataDir)
    },
  }
}

export async function startResource(): Promise<ResourceTarget> {
  const issuer = await startBenchIssuer()
  return { baseUrl: issuer.issuer, issuer, cpuSeconds: () => undefined, stop: () => issuer.close() }
}

async function waitOrStop(child: ChildHandle, url: string, timeoutMs?: number): Promise<void> {
  try {
    await waitForHttp(child, url, timeoutMs)
  } catch (error) {
    await stopChild(child)
    throw error
  }
}
