import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { basename } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'
import type * as OnrampBrowser from '../../src/adapters/browser/bundle.ts'
import type { MasterController, ResultOf, SdkEvent } from '../../src/index.ts'

declare global {
  interface Window {
    /** The browser bundle's exports, put there by `page.html`. */
    Onramp: typeof OnrampBrowser
    /** The controller of the page's current launch. */
    sdk: MasterController
  }
}

export {
  addPlatformAuthenticator,
  chromiumPath,
  launchChromium,
  skipReason,
} from '../../../server/test/support/chromium.ts'

/** The test page and the bundle, served from their own origin (`http://localhost:{port}`). */
export interface StaticSite {
  origin: string
  close(): Promise<void>
}

/**
 * Serves `page.html` at `/` and the bundle with its source map. The origin is `localhost`, not
 * `127.0.0.1`: WebAuthn needs a relying party id that is a domain, and `localhost` is a secure
 * context over plain HTTP.
 */
export async function startStaticSite(options: { bundlePath: string }): Promise<StaticSite> {
  const page = fileURLToPath(new URL('page.html', import.meta.url))
  const bundle = basename(options.bundlePath)
  const files = new Map([
    ['/', { path: page, type: 'text/html; charset=utf-8' }],
    [`/${bundle}`, { path: options.bundlePath, type: 'text/javascript; charset=utf-8' }],
    [`/${bundle}.map`, { path: `${options.bundlePath}.map`, type: 'application/json' }],
  ])
  const server = createServer((request, response) => {
    const file = files.get((request.url ?? '/').split('?')[0]!)
    if (request.method !== 'GET' || !file) {
      response.writeHead(404).end()
      return
    }
    readFile(file.path).then(
      (content) =>
        response.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' }).end(content),
      () => response.writeHead(500).end(),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    origin: `http://localhost:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections()
      return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())))
    },
  }
}

/** Opens (or reloads) the page and waits for the bundle; a reload is an app restart. */
export async function openPage(page: Page, origin: string): Promise<void> {
  if (page.url().startsWith(origin)) await page.reload()
  else await page.goto(`${origin}/`)
  await page.waitForFunction(() => window.Onramp !== undefined)
}

export interface LaunchOptions {
  serverUrl: string
  tenantId: string
  clientId: string
  namespace: string
  /** Milliseconds a WebAuthn prompt waits for the user; 10,000 by default. */
  biometricTimeout?: number
}

/** A new controller in the page, on IndexedDB, non-extractable keys and WebAuthn PRF. */
export async function launchSdk(page: Page, options: LaunchOptions): Promise<void> {
  await page.evaluate((options) => {
    const { BrowserKeyStore, IndexedDBStorage, MasterController, WebAuthnPRFBiometricProvider } =
      window.Onramp
    window.sdk = new MasterController({
      serverUrl: options.serverUrl,
      tenantId: options.tenantId,
      clientId: options.clientId,
      platform: 'web',
      storage: new IndexedDBStorage({ namespace: options.namespace }),
      keyStore: new BrowserKeyStore({ namespace: options.namespace }),
      biometricProvider: new WebAuthnPRFBiometricProvider({ timeout: options.biometricTimeout ?? 10_000 }),
    })
  }, options)
}

/** `sdk.send(event)` in the page. */
export function send<E extends SdkEvent>(page: Page, event: E): Promise<ResultOf<E>> {
  return page.evaluate((event) => window.sdk.send(event), event) as Promise<ResultOf<E>>
}

/** What IndexedDB holds for a namespace, read with the raw IndexedDB API. */
export interface StoredState {
  enrollment: { sealed?: { format?: string }; authenticationMode?: string } | undefined
  keys: {
    privateKey: { isCryptoKey: boolean; extractable: boolean; algorithm: string; usages: string[] }
    publicKey: { isCryptoKey: boolean; extractable: boolean }
    /** The error name `exportKey` of the private key failed with, if it did. */
    exportError: string | undefined
    jkt: string
  }[]
}

export function readStoredState(page: Page, namespace: string): Promise<StoredState> {
  return page.evaluate(async (namespace) => {
    const request = <T>(r: IDBRequest<T>): Promise<T> =>
      new Promise((resolve, reject) => {
        r.onsuccess = () => resolve(r.result)
        r.onerror = () => reject(r.error)
      })
    const database = await request(indexedDB.open('onramp-sdk'))
    try {
      const transaction = database.transaction(['records', 'device-keys'], 'readonly')
      const enrollment = await request(transaction.objectStore('records').get([namespace, 'enrollment']))
      const range = IDBKeyRange.bound([namespace], [namespace, []])
      const pairs = (await request(transaction.objectStore('device-keys').getAll(range))) as CryptoKeyPair[]
      const keys = await Promise.all(
        pairs.map(async ({ privateKey, publicKey }) => {
          const exportError = await crypto.subtle.exportKey('jwk', privateKey).then(
            () => undefined,
            (error: Error) => error.name,
          )
          const algorithm = privateKey.algorithm as EcKeyAlgorithm
          return {
            privateKey: {
              isCryptoKey: privateKey instanceof CryptoKey,
              extractable: privateKey.extractable,
              algorithm: `${algorithm.name} ${algorithm.namedCurve}`,
              usages: [...privateKey.usages],
            },
            publicKey: { isCryptoKey: publicKey instanceof CryptoKey, extractable: publicKey.extractable },
            exportError,
            jkt: await window.Onramp.calculateJKT(publicKey),
          }
        }),
      )
      return { enrollment, keys }
    } finally {
      database.close()
    }
  }, namespace) as Promise<StoredState>
}
