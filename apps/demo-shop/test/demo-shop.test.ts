import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { launchChromium, skipReason } from '../../../packages/sdk/test/browser/harness.ts'
import { assertAccessible } from '../../../packages/server/test/support/chromium.ts'
import { type Demo, startDemo } from '../src/demo.ts'

/** A port free right now (the demo needs its ports before it starts: they go into the seeded client). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

async function shopReady(page: Page): Promise<{ sub: string; anonymous: boolean; cart: string[] }> {
  await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 }).catch(async (error) => {
    throw new Error(`the shop did not get ready: ${await page.locator('#who').textContent()}`, {
      cause: error,
    })
  })
  return page.evaluate(() => ({
    sub: document.body.dataset.sub!,
    anonymous: document.body.dataset.anonymous === 'true',
    cart: Array.from(document.querySelectorAll('#cart li')).map((li) => li.textContent!.split(' — ')[0]!),
  }))
}

async function addToCart(page: Page, product: string, count: number): Promise<void> {
  await page.getByRole('button', { name: `Add ${product}` }).click()
  await page.waitForSelector(`body[data-saved="${count}"]`, { timeout: 10_000 })
}

/** Waits for the hosted login to send the browser back to the shop; says what the login page shows if not. */
async function backInShop(page: Page): Promise<void> {
  await page
    .waitForURL((url) => url.origin === demo.shop.origin, { timeout: 15_000 })
    .catch(async (error) => {
      const text = await page
        .locator('main')
        .first()
        .textContent()
        .catch(() => '')
      throw new Error(`still at ${page.url()}: ${text}`, { cause: error })
    })
}

const skip = skipReason()
let demo: Demo
let browser: Browser
let dataDir: string

before(
  async () => {
    if (skip) return
    dataDir = await mkdtemp(join(tmpdir(), 'onramp-demo-shop-'))
    const [onrampPort, shopPort] = [await freePort(), await freePort()]
    demo = await startDemo({ onrampPort, shopPort, dataDir, logLevel: 'silent' })
    browser = await launchChromium()
  },
  { timeout: 30_000 },
)

after(async () => {
  await browser?.close()
  await demo?.close()
  if (dataDir) await rm(dataDir, { recursive: true, force: true })
})

test('demo shop: anonymous cart, sign-up keeps it, a new browser signs in to it', {
  skip,
  timeout: 90_000,
}, async () => {
  const credentials = {
    email: `shopper-${Date.now().toString(36)}@example.com`,
    password: 'correct horse battery',
  }
  const onrampOrigin = demo.onrampUrl

  // An anonymous visitor fills a cart; it is the profile attribute `cart`.
  // bypassCSP: axe is injected as an inline script, which the hosted login's CSP forbids.
  const first = await browser.newContext({ bypassCSP: true })
  const page = await first.newPage()
  await page.goto(`${demo.shop.origin}/`)
  const anonymous = await shopReady(page)
  assert.equal(anonymous.anonymous, true)
  assert.deepEqual(anonymous.cart, [])
  await assertAccessible(page, 'the shop page')
  await addToCart(page, 'Onramp mug', 1)
  await addToCart(page, 'Sticker pack', 2)
  const stored = await demo.onramp.services.profiles.getAttribute('demo', anonymous.sub, 'cart')
  assert.deepEqual(JSON.parse(stored.json), ['mug', 'stickers'])
  await page.reload()
  assert.deepEqual((await shopReady(page)).cart, ['Onramp mug', 'Sticker pack'])

  // Sign in → the hosted login → sign up → back in the shop, same profile.
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForURL((url) => url.origin === onrampOrigin, { timeout: 10_000 })
  await page.waitForSelector('form[action$="/login/sign-in"]')
  await assertAccessible(page, 'the hosted sign-in page')
  await page.getByRole('link', { name: 'Create an account' }).click()
  await page.waitForSelector('form[action$="/login/sign-up"]')
  await assertAccessible(page, 'the hosted sign-up page')
  await page.getByLabel('Email address').fill(credentials.email)
  await page.getByLabel('Password').fill(credentials.password)
  await page.getByRole('button', { name: 'Create account', exact: true }).click()
  await backInShop(page)
  const signedUp = await shopReady(page)
  assert.equal(signedUp.anonymous, false)
  assert.equal(signedUp.sub, anonymous.sub, 'the anonymous profile became the person’s')
  assert.deepEqual(signedUp.cart, ['Onramp mug', 'Sticker pack'])

  // Checkout at the shop's own API with a demo-api token.
  await page.getByRole('button', { name: 'Check out' }).click()
  await page.getByText(/^Order order-.* placed: \$16\.00\.$/).waitFor({ timeout: 10_000 })

  // Sign out: the enrollment is deleted; the page starts over anonymously with an empty cart.
  await page.getByRole('button', { name: 'Sign out' }).click()
  await page.waitForSelector('body:not([data-ready])')
  const afterSignOut = await shopReady(page)
  assert.equal(afterSignOut.anonymous, true)
  assert.notEqual(afterSignOut.sub, anonymous.sub)
  assert.deepEqual(afterSignOut.cart, [])
  await first.close()

  // A fresh browser: an anonymous cart of its own, then sign-in as the same person. Merge policy
  // `none`: the person's cart is theirs; the new anonymous cart is not merged into it.
  const second = await browser.newContext()
  const other = await second.newPage()
  await other.goto(`${demo.shop.origin}/`)
  const visitor = await shopReady(other)
  assert.equal(visitor.anonymous, true)
  assert.notEqual(visitor.sub, anonymous.sub)
  await addToCart(other, 'Onramp T-shirt', 1)
  await other.getByRole('button', { name: 'Sign in' }).click()
  await other.waitForSelector('form[action$="/login/sign-in"]', { timeout: 10_000 })
  await other.getByLabel('Email address').fill(credentials.email)
  await other.getByLabel('Password').fill(credentials.password)
  await other.getByRole('button', { name: 'Sign in', exact: true }).click()
  await backInShop(other)
  const signedIn = await shopReady(other)
  assert.equal(signedIn.anonymous, false)
  assert.equal(signedIn.sub, anonymous.sub)
  assert.deepEqual(signedIn.cart, ['Onramp mug', 'Sticker pack'])
  const leftBehind = await demo.onramp.services.profiles.getAttribute('demo', visitor.sub, 'cart')
  assert.deepEqual(JSON.parse(leftBehind.json), ['tee'], 'the anonymous profile keeps its own cart')
  await second.close()
})
