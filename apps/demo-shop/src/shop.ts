import { readFile } from 'node:fs/promises'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { onrampExpress } from '@onramp/resource'
import express from 'express'

/** The products; prices in cents. */
export const products = [
  { id: 'mug', name: 'Onramp mug', price: 1200 },
  { id: 'tee', name: 'Onramp T-shirt', price: 2500 },
  { id: 'stickers', name: 'Sticker pack', price: 400 },
] as const

export interface ShopOptions {
  port: number
  /** Listen address; `127.0.0.1` by default. */
  host?: string
  /** The Onramp server's public URL, e.g. `http://localhost:8080`. */
  onrampUrl: string
  tenant: string
  clientId: string
  /** The audience of the shop's own API (`/api/checkout`). */
  audience: string
  /** `dist/onramp-sdk.browser.js`, built by `packages/sdk/scripts/build-browser.ts`. */
  bundlePath: string
}

export interface Shop {
  origin: string
  close(): Promise<void>
}

const publicFile = (name: string) => fileURLToPath(new URL(`../public/${name}`, import.meta.url))

/**
 * The shop: a static page with its script and the SDK bundle, `GET /config.json` (where Onramp is),
 * `GET /api/products`, and `POST /api/checkout`, which takes a `demo-api` token (DPoP) of the
 * SDK's `CreateHttpCommonRequest`. The page and the API share the origin: no CORS needed.
 */
export async function startShop(options: ShopOptions): Promise<Shop> {
  const app = express()
  app.disable('x-powered-by')
  const issuer = `${options.onrampUrl}/t/${options.tenant}`
  const noStore = (response: express.Response) => response.set('cache-control', 'no-store')
  const sendFile = (name: string, type: string) => async (_: express.Request, response: express.Response) => {
    noStore(response)
      .type(type)
      .send(await readFile(name))
  }
  const page = sendFile(publicFile('index.html'), 'text/html; charset=utf-8')
  app.get('/', page)
  app.get('/callback', page)
  app.get('/shop.js', sendFile(publicFile('shop.js'), 'text/javascript; charset=utf-8'))
  app.get('/shop.css', sendFile(publicFile('shop.css'), 'text/css; charset=utf-8'))
  app.get('/onramp-sdk.browser.js', sendFile(options.bundlePath, 'text/javascript; charset=utf-8'))
  app.get('/config.json', (_, response) => {
    noStore(response).json({
      serverUrl: options.onrampUrl,
      tenantId: options.tenant,
      clientId: options.clientId,
      audience: options.audience,
      issuer,
    })
  })
  app.get('/api/products', (_, response) => {
    noStore(response).json(products)
  })

  const onramp = onrampExpress({
    issuer,
    audience: options.audience,
    requireDPoP: true,
    publicUrl: `http://localhost:${options.port}`,
  })
  app.post('/api/checkout', onramp, express.json(), (request, response) => {
    const access = request.onramp!
    const items = Array.isArray(request.body?.items) ? (request.body.items as unknown[]) : []
    let total = 0
    for (const id of items) total += products.find((p) => p.id === id)?.price ?? 0
    noStore(response).json({
      order: `order-${Date.now().toString(36)}`,
      total,
      customer: access.claims.sub,
      anonymous: access.isAnonymous,
    })
  })

  const server: Server = await new Promise((resolve, reject) => {
    const listening = app.listen(options.port, options.host ?? '127.0.0.1', (error?: Error) =>
      error ? reject(error) : resolve(listening),
    )
  })
  return {
    origin: `http://localhost:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections()
      return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())))
    },
  }
}
