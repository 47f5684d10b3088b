import { existsSync } from 'node:fs'
import { type Browser, chromium } from 'playwright-core'

/** Debian's Chromium; CI installs it. Tests never download a browser. */
export const chromiumPath = '/usr/bin/chromium'

/** Why the browser tests cannot run here, or undefined. On CI a missing Chromium fails them instead. */
export function skipReason(): string | undefined {
  if (existsSync(chromiumPath) || process.env.CI) return undefined
  return `${chromiumPath} is missing (apt-get install chromium)`
}

/** Headless Chromium with the flags this closed network needs (no background connections). */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(chromiumPath))
    throw new Error(`${chromiumPath} is missing: CI must install Debian's chromium`)
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-gpu',
    ],
  })
}
