import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { type Browser, chromium, type Page } from 'playwright-core'

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
