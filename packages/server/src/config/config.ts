import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'

/** The server's configuration after validation. */
export interface Config {
  port: number
  host: string
  publicUrl: string
  dataDir: string
  databaseUrl: string | undefined
  redisUrl: string | undefined
  adminToken: string | undefined
  adminPort: number | undefined
  masterKey: string | undefined
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
  seedDemo: boolean
  demoShopUrl: string
  trustProxy: boolean
  enrollmentRateLimit: boolean
  enrollmentLimitPerIp: number
  enrollmentLimitPerTenant: number
  enrollmentLimitWindow: number
  dpopProofMaxAge: number
  bodyLimit: number
  requestTimeout: number
}

type Kind = 'port' | 'string' | 'url' | 'boolean' | 'positive' | 'level'

interface Option {
  key: keyof Config
  kind: Kind
  default?: unknown
  description: string
}

/** Every option, its kind and default: the source of the README's configuration reference. */
export const configOptions: readonly Option[] = [
  { key: 'port', kind: 'port', default: 8080, description: 'HTTP port' },
  { key: 'host', kind: 'string', default: '0.0.0.0', description: 'interface to listen on' },
  {
    key: 'publicUrl',
    kind: 'url',
    description:
      'external base URL; issuers are `{publicUrl}/t/{tenant}` (default `http://localhost:{port}`)',
  },
  {
    key: 'dataDir',
    kind: 'string',
    default: './data',
    description: 'folder for the SQLite database and the generated master key',
  },
  {
    key: 'databaseUrl',
    kind: 'string',
    description: '`postgres://…` to use PostgreSQL; default SQLite in `{dataDir}/onramp.db`',
  },
  {
    key: 'redisUrl',
    kind: 'url',
    description: '`redis://…` for DPoP replay caches and rate limits shared by several nodes',
  },
  {
    key: 'adminToken',
    kind: 'string',
    description: 'bearer token of the admin API; generated and printed once when unset',
  },
  {
    key: 'adminPort',
    kind: 'port',
    description: 'serve the admin API and /metrics on this port instead of the public one',
  },
  {
    key: 'masterKey',
    kind: 'string',
    description:
      '32 bytes, base64 or hex, that encrypt private keys at rest; default a key file generated in `{dataDir}` (set it in a cluster)',
  },
  {
    key: 'logLevel',
    kind: 'level',
    default: 'info',
    description: '`fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`',
  },
  { key: 'seedDemo', kind: 'boolean', default: true, description: 'seed tenant `demo` on an empty database' },
  {
    key: 'demoShopUrl',
    kind: 'url',
    default: 'http://localhost:3000',
    description:
      'where the demo shop runs (`npm run demo`): the seeded `demo-app` allows its origin and `/callback`',
  },
  {
    key: 'trustProxy',
    kind: 'boolean',
    default: false,
    description: 'take the client IP from `X-Forwarded-For` (behind a load balancer)',
  },
  {
    key: 'enrollmentRateLimit',
    kind: 'boolean',
    default: true,
    description: 'rate-limit anonymous enrollment (`off` lifts it, e.g. for benchmarks)',
  },
  {
    key: 'enrollmentLimitPerIp',
    kind: 'positive',
    default: 30,
    description: 'anonymous enrollments per client IP per window',
  },
  {
    key: 'enrollmentLimitPerTenant',
    kind: 'positive',
    default: 6000,
    description: 'anonymous enrollments per tenant per window',
  },
  { key: 'enrollmentLimitWindow', kind: 'positive', default: 60, description: 'rate-limit window, seconds' },
  {
    key: 'dpopProofMaxAge',
    kind: 'positive',
    default: 60,
    description: "how old (seconds) a DPoP proof's `iat` may be; 5 s of clock skew ahead are allowed",
  },
  { key: 'bodyLimit', kind: 'positive', default: 65536, description: 'largest request body, bytes' },
  {
    key: 'requestTimeout',
    kind: 'positive',
    default: 30,
    description: 'seconds a client has to send a whole request, headers and body; a slower one gets 408',
  },
]

export class ConfigError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

export function envName(key: string): string {
  return `ONRAMP_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`
}

export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`
}

export interface ConfigSources {
  env?: Record<string, string | undefined>
  argv?: readonly string[]
}

/**
 * Reads the configuration: command-line flags override environment variables, which override
 * the JSON file named by `--config` (or `ONRAMP_CONFIG`). Every problem is reported at once.
 */
export function loadConfig(sources: ConfigSources = {}): Config {
  const env = sources.env ?? process.env
  const { flags, configPath } = parseFlags(sources.argv ?? [])
  const filePath = configPath ?? env.ONRAMP_CONFIG
  const file = filePath ? readConfigFile(filePath) : {}
  const errors: string[] = []
  const raw: Record<string, unknown> = {}
  for (const option of configOptions) {
    const fromFlag = flags.get(option.key)
    const fromEnv = env[envName(option.key)]
    const value =
      fromFlag ??
      (fromEnv === undefined || fromEnv === '' ? undefined : fromEnv) ??
      file[option.key] ??
      option.default
    const where = fromFlag !== undefined ? flagName(option.key) : fromEnv ? envName(option.key) : option.key
    if (value === undefined) continue
    const parsed = parseValue(option.kind, value)
    if (parsed.error) errors.push(`${where}: ${parsed.error} (got ${JSON.stringify(value)})`)
    else raw[option.key] = parsed.value
  }
  for (const key of Object.keys(file)) {
    if (!configOptions.some((option) => option.key === key))
      errors.push(`${filePath}: unknown option "${key}"`)
  }
  for (const key of flags.keys()) {
    if (!configOptions.some((option) => option.key === key)) errors.push(`unknown flag ${flagName(key)}`)
  }
  const port = (raw.port as number | undefined) ?? 8080
  raw.publicUrl = String(raw.publicUrl ?? `http://localhost:${port}`).replace(/\/+$/, '')
  if (typeof raw.databaseUrl === 'string' && !/^postgres(ql)?:\/\//.test(raw.databaseUrl)) {
    errors.push(`${envName('databaseUrl')}: only postgres:// URLs are supported; leave it unset for SQLite`)
  }
  if (typeof raw.masterKey === 'string' && !decodeMasterKey(raw.masterKey)) {
    errors.push(`${envName('masterKey')}: must be 32 bytes as 64 hex digits or base64`)
  }
  if (errors.length > 0) throw new ConfigError(`Invalid configuration:\n  ${errors.join('\n  ')}`)
  raw.dataDir = resolve(String(raw.dataDir))
  return raw as unknown as Config
}

export function decodeMasterKey(value: string): Buffer | undefined {
  const key = /^[0-9a-fA-F]{64}$/.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64')
  return key.length === 32 ? key : undefined
}

function parseFlags(argv: readonly string[]): { flags: Map<string, string>; configPath: string | undefined } {
  const flags = new Map<string, string>()
  let configPath: string | undefined
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument ${JSON.stringify(arg)}`)
    const eq = arg.indexOf('=')
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq)
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1)
    if (value === undefined) throw new ConfigError(`${arg} needs a value`)
    const key = name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())
    if (key === 'config') configPath = value
    else flags.set(key, value)
  }
  return { flags, configPath }
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`)
  }
  try {
    const value: unknown = JSON.parse(text)
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object')
    return value as Record<string, unknown>
  } catch (error) {
    throw new ConfigError(`config file ${path} is not a JSON object: ${(error as Error).message}`)
  }
}

const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

function parseValue(kind: Kind, value: unknown): { value?: unknown; error?: string } {
  const text = String(value).trim()
  switch (kind) {
    case 'port': {
      const n = Number(text)
      return Number.isInteger(n) && n >= 0 && n <= 65535
        ? { value: n }
        : { error: 'must be a port number 0–65535' }
    }
    case 'positive': {
      const n = Number(text)
      return Number.isInteger(n) && n > 0 ? { value: n } : { error: 'must be a positive whole number' }
    }
    case 'boolean':
      if (['true', '1', 'on', 'yes'].includes(text.toLowerCase())) return { value: true }
      if (['false', '0', 'off', 'no'].includes(text.toLowerCase())) return { value: false }
      return { error: 'must be on/off (true/false)' }
    case 'url':
      try {
        const url = new URL(text)
        return /^(https?|rediss?):$/.test(url.protocol)
          ? { value: text }
          : { error: 'must be an http(s) or redis URL' }
      } catch {
        return { error: 'must be a URL' }
      }
    case 'level':
      return levels.includes(text) ? { value: text } : { error: `must be one of ${levels.join(', ')}` }
    case 'string':
      return text ? { value: text } : { error: 'must not be empty' }
  }
}
