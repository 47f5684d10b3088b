import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildBrowserBundle } from '../../../packages/sdk/scripts/build-browser.ts'
import { loadConfig } from '../../../packages/server/src/config/config.ts'
import { demo } from '../../../packages/server/src/domain/demo-seed.ts'
import { type Runtime, startServer } from '../../../packages/server/src/runtime.ts'
import { type Shop, startShop } from './shop.ts'

export interface DemoOptions {
  /** Onramp's port; 8080 by default (`ONRAMP_PORT`). */
  onrampPort?: number
  /** The shop's port; 3000 by default (`DEMO_SHOP_PORT`). */
  shopPort?: number
  /** Onramp's data folder (SQLite, keys); `ONRAMP_DATA_DIR`, else `./data`. */
  dataDir?: string
  /** Onramp's log level; `warn` by default. */
  logLevel?: string
}

export interface Demo {
  onramp: Runtime
  shop: Shop
  onrampUrl: string
  close(): Promise<void>
}

/**
 * Builds the SDK's browser bundle, starts Onramp (tenant `demo` seeded on an empty database, with
 * the shop's origin as `demo-app`'s web origin and `{shop}/callback` as its redirect URI) and the shop.
 */
export async function startDemo(options: DemoOptions = {}): Promise<Demo> {
  const onrampPort = options.onrampPort ?? Number(process.env.ONRAMP_PORT ?? 8080)
  const shopPort = options.shopPort ?? Number(process.env.DEMO_SHOP_PORT ?? 3000)
  const onrampUrl = `http://localhost:${onrampPort}`
  const shopOrigin = `http://localhost:${shopPort}`
  const { path: bundlePath } = await buildBrowserBundle()
  const onramp = await startServer(
    loadConfig({
      env: {
        ...process.env,
        ONRAMP_PORT: String(onrampPort),
        ONRAMP_HOST: '127.0.0.1',
        ONRAMP_PUBLIC_URL: onrampUrl,
        // The shop's origin goes into the demo client when an empty database is seeded.
        ONRAMP_DEMO_SHOP_URL: shopOrigin,
        ONRAMP_LOG_LEVEL: options.logLevel ?? process.env.ONRAMP_LOG_LEVEL ?? 'warn',
        ONRAMP_DATA_DIR: options.dataDir ?? process.env.ONRAMP_DATA_DIR ?? join(process.cwd(), 'data'),
      },
    }),
  )
  let shop: Shop
  try {
    shop = await startShop({
      port: shopPort,
      onrampUrl,
      tenant: demo.tenant,
      clientId: demo.client,
      audience: demo.resource,
      bundlePath,
    })
  } catch (error) {
    await onramp.close()
    throw error
  }
  return {
    onramp,
    shop,
    onrampUrl,
    close: async () => {
      await shop.close()
      await onramp.close()
    },
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const started = await startDemo()
  if (!started.onramp.seeded) {
    console.log(
      `Existing database in ${started.onramp.config.dataDir}: demo-app keeps the shop origin it was seeded with.`,
    )
  }
  console.log(`Onramp:    ${started.onrampUrl} (tenant "${demo.tenant}")`)
  console.log(`Demo shop: ${started.shop.origin}/`)
  const stop = () => {
    started.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
