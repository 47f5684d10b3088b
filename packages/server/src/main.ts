// Must stay the first import: libuv reads the pool size once, at its first use.
import './thread-pool.ts'
import { ConfigError, loadConfig } from './config/config.ts'
import { demo } from './domain/demo-seed.ts'
import { startServer } from './runtime.ts'

let config: ReturnType<typeof loadConfig>
try {
  config = loadConfig({ argv: process.argv.slice(2) })
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message)
    process.exit(2)
  }
  throw error
}

const runtime = await startServer(config)
const issuer = runtime.services.tokens.issuer(demo.tenant)
const log = runtime.app.log
log.info(
  {
    publicUrl: config.publicUrl,
    database: config.databaseUrl ? 'postgres' : 'sqlite',
    cluster: Boolean(config.redisUrl),
  },
  'Onramp is listening',
)
if (runtime.admin.generated) {
  console.log(
    `\nAdmin API token (shown once, kept in ${config.dataDir}/admin.token):\n  ${runtime.admin.token}\n`,
  )
}
if (runtime.seeded || process.stdout.isTTY) {
  console.log(`Onramp is running at ${config.publicUrl}

Quickstart (tenant "${demo.tenant}", public client "${demo.client}", resource "${demo.resource}"):
  curl ${issuer}/.well-known/openid-configuration
  # enroll this machine anonymously with a DPoP proof from the helper:
  curl -X POST ${issuer}/token \\
    -H "DPoP: $(node scripts/dpop-proof.ts POST ${issuer}/token)" \\
    -d grant_type=urn:onramp:params:oauth:grant-type:anonymous \\
    -d client_id=${demo.client} -d authentication_mode=no
`)
}

let closing = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (closing) return
    closing = true
    log.info({ signal }, 'shutting down')
    runtime.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed')
        process.exit(1)
      },
    )
  })
}
