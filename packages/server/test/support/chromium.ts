import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { type Browser, type CDPSession, chromium, type Page } from 'playwright-core'

const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js')

declare global {
  interface Window {
    axe: { run(context?: unknown, options?: unknown): Promise<{ violations: AxeViolation[] }> }
  }
}

interface AxeViolation {
  id: string
  impact: string | null
  help: string
  nodes: { target: unknown[]; failureSummary?: string }[]
}

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

/**
 * Runs axe-core on the page and fails with its violations. axe goes in as an inline script, so the
 * page's context needs `bypassCSP` where the page forbids inline scripts (the hosted login does).
 */
export async function assertAccessible(page: Page, what: string): Promise<void> {
  await page.addScriptTag({ path: axePath })
  const { violations } = await page.evaluate(() => window.axe.run())
  const report = violations.map(
    (v) =>
      `${v.id} (${v.impact}): ${v.help}\n${v.nodes.map((n) => `  ${JSON.stringify(n.target)}`).join('\n')}`,
  )
  assert.deepEqual(report, [], `axe found violations on ${what}`)
}

/**
 * Adds a virtual platform authenticator (CTAP2, internal transport, resident keys) that verifies
 * its user to the page, with `extra` options (for example `hasPrf`); its CDP session and id.
 */
export async function addPlatformAuthenticator(
  page: Page,
  extra: { hasPrf?: boolean } = {},
): Promise<{ cdp: CDPSession; authenticatorId: string }> {
  const cdp = await page.context().newCDPSession(page)
  await cdp.send('WebAuthn.enable')
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      ...extra,
    },
  })
  return { cdp, authenticatorId }
}
