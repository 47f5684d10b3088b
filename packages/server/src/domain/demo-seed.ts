import { GrantType } from '@onramp/protocol'
import type { Services } from './services.ts'

export const demo = { tenant: 'demo', client: 'demo-app', resource: 'demo-api' } as const

export interface DemoSeedOptions {
  /** The demo shop's URL: its origin is a web origin of `demo-app`, `{origin}/callback` its redirect URI. */
  shopURL: string
}

/** Seeds tenant `demo` on an empty database; returns whether it did. */
export async function seedDemoTenant(services: Services, options: DemoSeedOptions): Promise<boolean> {
  if ((await services.tenants.list()).length > 0) return false
  const shopOrigin = new URL(options.shopURL).origin
  await services.tenants.create({ id: demo.tenant, name: 'Demo' })
  await services.clients.create(demo.tenant, {
    clientId: demo.client,
    name: 'Demo app',
    type: 'public',
    grantTypes: [
      GrantType.anonymous,
      GrantType.refreshToken,
      GrantType.tokenExchange,
      GrantType.authorizationCode,
    ],
    scopes: ['attributes:read', 'attributes:write'],
    appPolicy: { minVersion: '1.0.0', latestVersion: '1.0.0' },
    redirectUris: [`${shopOrigin}/callback`],
    webOrigins: [shopOrigin],
  })
  await services.resources.create(demo.tenant, {
    audience: demo.resource,
    name: 'Demo API',
    scopes: ['demo:read', 'demo:write'],
    policy: { allowedClients: [demo.client], allowAnonymous: true },
  })
  return true
}
