// The demo shop's page: an anonymous enrollment on first visit, the cart as the profile attribute
// `cart` (Onramp's attribute API, called through the SDK), progressive sign-in through the hosted
// login, and a checkout at the shop's own API with a `demo-api` token.
import {
  BrowserKeyStore,
  IndexedDBStorage,
  MasterController,
  WebAuthnPRFBiometricProvider,
} from '/onramp-sdk.browser.js'

const config = await (await fetch('/config.json')).json()
const namespace = 'demo-shop'
const sdk = new MasterController({
  serverUrl: config.serverUrl,
  tenantId: config.tenantId,
  clientId: config.clientId,
  platform: 'web',
  storage: new IndexedDBStorage({ namespace }),
  keyStore: new BrowserKeyStore({ namespace }),
  biometricProvider: new WebAuthnPRFBiometricProvider(),
})
const products = await (await fetch('/api/products')).json()
const cartUrl = `${config.issuer}/profile/attributes/cart`
const element = (id) => document.getElementById(id)
const price = (cents) => `$${(cents / 100).toFixed(2)}`
let cart = []

/** Onramp's own attribute API: with the issuer as audience the SDK sends its IAM token (see the README). */
function profileRequest(method, body) {
  return sdk.send({
    type: 'CreateHttpCommonRequest',
    url: cartUrl,
    method,
    audience: config.issuer,
    ...(body !== undefined && {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
  })
}

function fail(what, result) {
  element('who').textContent = `${what} failed: ${result.status} ${result.httpStatus ?? ''}`
  throw new Error(`${what}: ${JSON.stringify(result)}`)
}

async function session() {
  await sdk.send({ type: 'Start', appName: config.clientId, appVersion: '1.0.0' })
  let { sdkState } = await sdk.send({ type: 'GetSdkState' })
  if (sdkState === 'LoginRequired') {
    const login = await sdk.send({ type: 'OfflineLogin' })
    if (login.status === 'SessionExpired') {
      await sdk.send({ type: 'ClearIamTokenCache', behavior: 'DeleteEnrollment' })
    } else if (login.status !== 'Success') fail('Unlocking', login)
    sdkState = login.sdkState
  }
  if (sdkState === 'ActivationRequired') {
    const enrolled = await sdk.send({
      type: 'EnrollAnonymousUser',
      tenantId: config.tenantId,
      clientId: config.clientId,
      authenticationMode: 'no',
    })
    if (enrolled.status !== 'Success') fail('Enrolling', enrolled)
  }
  if (location.pathname === '/callback') {
    const result = await sdk.send({ type: 'LoginCallback', callbackUrl: location.href })
    history.replaceState(null, '', '/')
    if (result.status !== 'Success') fail('Signing in', result)
  }
}

async function loadCart() {
  const result = await profileRequest('GET')
  if (result.status !== 'Success') fail('Loading the cart', result)
  if (result.httpStatus === 404) return []
  if (result.httpStatus !== 200) fail('Loading the cart', result)
  const value = JSON.parse(result.body)
  return Array.isArray(value) ? value : []
}

async function saveCart() {
  const result = await profileRequest('PUT', cart)
  if (result.status !== 'Success' || (result.httpStatus !== 201 && result.httpStatus !== 204))
    fail('Saving the cart', result)
}

async function renderUser() {
  const { users } = await sdk.send({ type: 'GetSdkState' })
  const user = users[0]
  document.body.dataset.sub = user?.userIdentifier ?? ''
  document.body.dataset.anonymous = String(user?.isAnonymous ?? true)
  element('who').textContent = user?.isAnonymous === false ? 'Signed in.' : 'Shopping anonymously.'
  element('sign-in').hidden = user?.isAnonymous === false
  element('sign-out').hidden = user?.isAnonymous !== false
}

function renderCart() {
  const list = element('cart')
  list.replaceChildren(
    ...cart.map((id) => {
      const item = document.createElement('li')
      const product = products.find((p) => p.id === id)
      item.textContent = product ? `${product.name} — ${price(product.price)}` : id
      return item
    }),
  )
  const total = cart.reduce((sum, id) => sum + (products.find((p) => p.id === id)?.price ?? 0), 0)
  element('total').textContent = cart.length === 0 ? 'Your cart is empty.' : `Total: ${price(total)}`
  element('checkout').disabled = cart.length === 0
}

function renderProducts() {
  element('products').replaceChildren(
    ...products.map((product) => {
      const item = document.createElement('li')
      const button = document.createElement('button')
      button.type = 'button'
      button.textContent = `Add ${product.name} (${price(product.price)})`
      button.addEventListener('click', async () => {
        cart = [...cart, product.id]
        renderCart()
        await saveCart()
        document.body.dataset.saved = String(cart.length)
      })
      item.append(button)
      return item
    }),
  )
}

element('sign-in').addEventListener('click', async () => {
  const login = await sdk.send({ type: 'Login', redirectUri: `${location.origin}/callback` })
  if (login.status !== 'RedirectRequired') fail('Signing in', login)
  location.assign(login.authorizationUrl)
})

element('sign-out').addEventListener('click', async () => {
  const result = await sdk.send({ type: 'ClearIamTokenCache', behavior: 'DeleteEnrollment' })
  if (result.status !== 'Success') fail('Signing out', result)
  delete document.body.dataset.ready
  location.assign('/')
})

element('checkout').addEventListener('click', async () => {
  const result = await sdk.send({
    type: 'CreateHttpCommonRequest',
    url: `${location.origin}/api/checkout`,
    method: 'POST',
    audience: config.audience,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ items: cart }),
  })
  if (result.status !== 'Success' || result.httpStatus !== 200) fail('Checking out', result)
  const order = JSON.parse(result.body)
  element('order').textContent = `Order ${order.order} placed: ${price(order.total)}.`
})

renderProducts()
await session()
cart = await loadCart()
await renderUser()
renderCart()
document.body.dataset.ready = 'true'
