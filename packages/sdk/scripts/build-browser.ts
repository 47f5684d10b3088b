import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

/** `packages/sdk/dist/onramp-sdk.browser.js` (git-ignored), with its source map beside it. */
export const browserBundlePath = fileURLToPath(new URL('../dist/onramp-sdk.browser.js', import.meta.url))

const entry = fileURLToPath(new URL('../src/adapters/browser/bundle.ts', import.meta.url))

/**
 * Builds the browser bundle: one ES module with the SDK core, the browser adapters, `jose` and
 * `@onramp/protocol`. `platform: 'browser'` makes esbuild take the browser builds of dependencies
 * and refuse any `node:` import, so a Node-only module reaching the core fails the build.
 */
export async function buildBrowserBundle(): Promise<{ path: string; bytes: number }> {
  const result = await build({
    entryPoints: [entry],
    outfile: browserBundlePath,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: true,
    metafile: true,
    logLevel: 'silent',
  })
  const bundle = Object.values(result.metafile.outputs).find((output) => output.entryPoint !== undefined)
  return { path: browserBundlePath, bytes: bundle?.bytes ?? 0 }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { path, bytes } = await buildBrowserBundle()
  console.log(`${path} (${Math.round(bytes / 1024)} KiB)`)
}
