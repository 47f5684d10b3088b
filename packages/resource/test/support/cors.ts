import assert from 'node:assert/strict'

/** The page that calls the backend in the CORS tests, and one that is not allowed to. */
export const pageOrigin = 'https://app.example.com'
export const otherOrigin = 'https://elsewhere.example'

/** What Chromium sends before an encrypted POST of the SDK. */
export function preflightHeaders(origin: string): Record<string, string> {
  return {
    origin,
    'access-control-request-method': 'POST',
    'access-control-request-headers': 'authorization,content-type,dpop,onramp-response-key',
  }
}

type Header = (name: string) => string | undefined

/** A preflight answer that lets the page send the SDK's headers. */
export function assertPreflightAllowed(header: Header, options: { maxAge: string }): void {
  assert.equal(header('access-control-allow-origin'), pageOrigin)
  assert.equal(
    header('access-control-allow-headers'),
    'Authorization, DPoP, Content-Type, Onramp-Response-Key',
  )
  assert.match(header('access-control-allow-methods') ?? '', /^GET, HEAD, POST, PUT, PATCH, DELETE$/)
  assert.equal(header('access-control-max-age'), options.maxAge)
  assertCommon(header)
}

/** An answer the page may read, challenges and nonces included. */
export function assertReadable(header: Header): void {
  assert.equal(header('access-control-allow-origin'), pageOrigin)
  assert.equal(header('access-control-expose-headers'), 'WWW-Authenticate, DPoP-Nonce')
  assertCommon(header)
}

/** An answer to an origin that is not allowed: nothing but `Vary`. */
export function assertNotForOrigin(header: Header): void {
  for (const name of ['allow-origin', 'allow-headers', 'allow-methods', 'expose-headers', 'max-age'])
    assert.equal(header(`access-control-${name}`), undefined, `access-control-${name}`)
  assertCommon(header)
}

function assertCommon(header: Header): void {
  assert.match(header('vary') ?? '', /(^|, *)Origin(,|$)/i)
  assert.equal(header('access-control-allow-credentials'), undefined)
}
