import assert from 'node:assert/strict'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import express, { type NextFunction, type Request, type Response } from 'express'
import type { JWK } from 'jose'
import { onrampExpress } from '../src/index.ts'
import { assertChallenge } from './support/challenge.ts'
import {
  assertNotForOrigin,
  assertPreflightAllowed,
  assertReadable,
  otherOrigin,
  pageOrigin,
  preflightHeaders,
} from './support/cors.ts'
import { createDPoPKey, createProof, type DPoPKey, sha256 } from './support/dpop.ts'
import { createResponseKey, decryptResponse, encryptBody } from './support/encryption-client.ts'
import { audience, startIssuer, type TestIssuer } from './support/issuer.ts'
import { listen } from './support/listen.ts'

describe('Express middleware', () => {
  let issuer: TestIssuer
  let server: { url: string; close(): Promise<void> }
  let key: DPoPKey
  let token: string
  let resourceJWK: JWK

  before(async () => {
    issuer = await startIssuer()
    key = createDPoPKey()
    token = issuer.token({ cnf: { jkt: key.jkt } })
    const onramp = onrampExpress({
      issuer: issuer.issuer,
      audience,
      encryption: { privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, kid: 'enc-1' },
    })
    const app = express()
    app.use(onramp.encryptionJWKS)
    app.get('/health', (_req, res) => {
      res.json({ ok: true })
    })
    app.use('/api', onramp)
    app.use('/api', express.json())
    app.get('/api/orders', (req, res) => {
      res.json({ sub: req.onramp!.claims.sub, scheme: req.onramp!.scheme })
    })
    app.post('/api/orders', onramp.requireScopes('demo:write'), (req, res) => {
      res.status(201).json({ ordered: (req.body as { item: string }).item, type: req.get('content-type') })
    })
    app.get('/api/admin', onramp.requireScopes('admin'), (_req, res) => {
      res.json({ admin: true })
    })
    app.get('/api/text', (_req, res) => {
      res.type('text/plain').send('plain text')
    })
    app.get('/api/stream', (_req, res) => {
      res.write('leak')
      res.end()
    })
    app.use((error: Error & { status?: number }, _req: Request, res: Response, _next: NextFunction) => {
      res.status(error.status ?? 500).json({ failure: error.message })
    })
    server = await listen((port, host, ready) => app.listen(port, host, ready))
    resourceJWK = (
      (await (await fetch(`${server.url}/.well-known/onramp-encryption-jwks`)).json()) as { keys: JWK[] }
    ).keys[0]!
  })
  after(async () => {
    await server.close()
    await issuer.close()
  })

  function dpop(method: string, path: string, claims?: Record<string, unknown>): Record<string, string> {
    return {
      authorization: `DPoP ${token}`,
      dpop: createProof(key, { htm: method, htu: `${server.url}${path}`, token, claims }),
    }
  }

  it('sets req.onramp for a valid DPoP request (the URL includes the mount path)', async () => {
    const response = await fetch(`${server.url}/api/orders?x=1`, { headers: dpop('GET', '/api/orders') })
    assert.equal(response.status, 200, await response.clone().text())
    assert.deepEqual(await response.json(), { sub: 'subject-1', scheme: 'DPoP' })
  })

  it('accepts Bearer tokens and leaves routes outside its mount alone', async () => {
    const bearer = await fetch(`${server.url}/api/orders`, {
      headers: { authorization: `Bearer ${issuer.token()}` },
    })
    assert.equal(bearer.status, 200)
    assert.deepEqual(await (await fetch(`${server.url}/health`)).json(), { ok: true })
  })

  it('answers refusals with the challenge and a JSON body', async () => {
    const missing = await fetch(`${server.url}/api/orders`)
    assert.equal(missing.status, 401)
    assertChallenge(missing.headers.get('www-authenticate'), {
      status: 401,
      code: 'invalid_token',
      scheme: 'both',
      hasErrorCode: false,
    })
    assert.equal((await missing.json()).error, 'invalid_token')

    const wrongAudience = issuer.token({ aud: 'other-api' })
    const refused = await fetch(`${server.url}/api/orders`, {
      headers: { authorization: `Bearer ${wrongAudience}` },
    })
    assert.equal(refused.status, 401)
    assertChallenge(refused.headers.get('www-authenticate'), {
      status: 401,
      code: 'invalid_token',
      scheme: 'Bearer',
    })

    const headers = dpop('GET', '/api/orders')
    assert.equal((await fetch(`${server.url}/api/orders`, { headers })).status, 200)
    const replayed = await fetch(`${server.url}/api/orders`, { headers })
    assert.equal(replayed.status, 401)
    assertChallenge(replayed.headers.get('www-authenticate'), {
      status: 401,
      code: 'invalid_dpop_proof',
      scheme: 'DPoP',
    })
  })

  it('requireScopes answers 403 insufficient_scope', async () => {
    const response = await fetch(`${server.url}/api/admin`, { headers: dpop('GET', '/api/admin') })
    assert.equal(response.status, 403)
    assertChallenge(response.headers.get('www-authenticate'), {
      status: 403,
      code: 'insufficient_scope',
      scheme: 'DPoP',
    })
  })

  it('decrypts the body into req.body and encrypts the reply (express.json after it is harmless)', async () => {
    const body = await encryptBody(resourceJWK, JSON.stringify({ item: 'book' }), 'application/json')
    const responseKey = await createResponseKey()
    const response = await fetch(`${server.url}/api/orders`, {
      method: 'POST',
      headers: {
        ...dpop('POST', '/api/orders', { ebh: sha256(body), rkt: responseKey.thumbprint }),
        'content-type': 'application/jose',
        'onramp-response-key': responseKey.header,
      },
      body,
    })
    assert.equal(response.status, 201)
    assert.equal(response.headers.get('content-type'), 'application/jose')
    const decrypted = await decryptResponse(await response.text(), responseKey)
    assert.deepEqual(JSON.parse(decrypted.text), { ordered: 'book', type: 'application/json' })
    assert.match(String(decrypted.contentType), /^application\/json/)
  })

  it('encrypts text replies and refuses to stream in clear', async () => {
    const responseKey = await createResponseKey()
    const text = await fetch(`${server.url}/api/text`, {
      headers: {
        ...dpop('GET', '/api/text', { rkt: responseKey.thumbprint }),
        'onramp-response-key': responseKey.header,
      },
    })
    const decrypted = await decryptResponse(await text.text(), responseKey)
    assert.equal(decrypted.text, 'plain text')
    assert.match(String(decrypted.contentType), /^text\/plain/)

    const stream = await fetch(`${server.url}/api/stream`, {
      headers: {
        ...dpop('GET', '/api/stream', { rkt: responseKey.thumbprint }),
        'onramp-response-key': responseKey.header,
      },
    })
    assert.equal(stream.status, 500)
    const body = await stream.text()
    assert.doesNotMatch(body, /leak/)
    assert.match(JSON.parse((await decryptResponse(body, responseKey)).text).failure, /streamed/)
  })

  it('does not encrypt its own refusals', async () => {
    const responseKey = await createResponseKey()
    const response = await fetch(`${server.url}/api/admin`, {
      headers: {
        ...dpop('GET', '/api/admin', { rkt: responseKey.thumbprint }),
        'onramp-response-key': responseKey.header,
      },
    })
    assert.equal(response.status, 403)
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/)
    assert.equal((await response.json()).error, 'insufficient_scope')

    const body = await encryptBody(resourceJWK, '{}', 'application/json')
    const mismatch = await fetch(`${server.url}/api/orders`, {
      method: 'POST',
      headers: {
        ...dpop('POST', '/api/orders', { ebh: sha256('something else'), rkt: responseKey.thumbprint }),
        'content-type': 'application/jose',
        'onramp-response-key': responseKey.header,
      },
      body,
    })
    assert.equal(mismatch.status, 401)
    assertChallenge(mismatch.headers.get('www-authenticate'), {
      status: 401,
      code: 'invalid_dpop_proof',
      scheme: 'DPoP',
    })
    assert.equal((await mismatch.json()).error, 'invalid_dpop_proof')
  })
})

describe('Express middleware with cors', () => {
  let issuer: TestIssuer
  let server: { url: string; close(): Promise<void> }
  let key: DPoPKey
  let token: string

  before(async () => {
    issuer = await startIssuer()
    key = createDPoPKey()
    token = issuer.token({ cnf: { jkt: key.jkt } })
    const onramp = onrampExpress({
      issuer: issuer.issuer,
      audience,
      dpopNonce: { secret: randomBytes(32) },
      encryption: { privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, kid: 'enc-1' },
      cors: { origins: (origin) => origin === pageOrigin },
    })
    const app = express()
    app.use(onramp.encryptionJWKS)
    app.use('/api', onramp)
    app.post('/api/orders', (req, res) => {
      res.json({ sub: req.onramp!.claims.sub })
    })
    app.get('/api/admin', onramp.requireScopes('admin'), (_req, res) => {
      res.json({ admin: true })
    })
    app.get('/api/fails', (_req, _res, next) => {
      next(Object.assign(new Error('out of stock'), { status: 409 }))
    })
    app.use((error: Error & { status?: number }, _req: Request, res: Response, _next: NextFunction) => {
      res.status(error.status ?? 500).json({ failure: error.message })
    })
    server = await listen((port, host, ready) => app.listen(port, host, ready))
  })
  after(async () => {
    await server.close()
    await issuer.close()
  })

  const headerOf =
    (response: globalThis.Response) =>
    (name: string): string | undefined =>
      response.headers.get(name) ?? undefined

  /** A DPoP request from the page, retried once with the nonce the middleware asks for. */
  async function fromPage(method: 'GET' | 'POST', path: string): Promise<globalThis.Response> {
    const request = (nonce?: string) =>
      fetch(`${server.url}${path}`, {
        method,
        headers: {
          origin: pageOrigin,
          authorization: `DPoP ${token}`,
          dpop: createProof(key, { htm: method, htu: `${server.url}${path}`, token, claims: { nonce } }),
        },
      })
    const challenge = await request()
    assert.equal(challenge.status, 401)
    assert.equal((await challenge.json()).error, 'use_dpop_nonce')
    assertReadable(headerOf(challenge))
    const nonce = challenge.headers.get('dpop-nonce')
    assert.ok(nonce, 'the page can read DPoP-Nonce: it is exposed')
    return request(nonce)
  }

  it('answers preflights before authentication, for allowed origins only', async () => {
    const allowed = await fetch(`${server.url}/api/orders`, {
      method: 'OPTIONS',
      headers: preflightHeaders(pageOrigin),
    })
    assert.equal(allowed.status, 204)
    assert.equal(await allowed.text(), '')
    assertPreflightAllowed(headerOf(allowed), { maxAge: '600' })
    assert.equal(allowed.headers.get('www-authenticate'), null)

    const denied = await fetch(`${server.url}/api/orders`, {
      method: 'OPTIONS',
      headers: preflightHeaders(otherOrigin),
    })
    assert.equal(denied.status, 204)
    assertNotForOrigin(headerOf(denied))
  })

  it('puts the CORS headers on answers and refusals, so the page can read challenges and nonces', async () => {
    const accepted = await fromPage('POST', '/api/orders')
    assert.equal(accepted.status, 200, await accepted.clone().text())
    assertReadable(headerOf(accepted))

    const missing = await fetch(`${server.url}/api/orders`, {
      method: 'POST',
      headers: { origin: pageOrigin },
    })
    assert.equal(missing.status, 401)
    assertChallenge(missing.headers.get('www-authenticate'), {
      status: 401,
      code: 'invalid_token',
      scheme: 'both',
      hasErrorCode: false,
    })
    assertReadable(headerOf(missing))

    const scope = await fromPage('GET', '/api/admin')
    assert.equal(scope.status, 403)
    assert.equal((await scope.json()).error, 'insufficient_scope')
    assertReadable(headerOf(scope))

    const failing = await fromPage('GET', '/api/fails')
    assert.equal(failing.status, 409)
    assertReadable(headerOf(failing))

    const jwks = await fetch(`${server.url}/.well-known/onramp-encryption-jwks`, {
      headers: { origin: pageOrigin },
    })
    assert.equal(jwks.status, 200)
    assertReadable(headerOf(jwks))
  })

  it('answers other origins, and requests without one, with nothing but Vary', async () => {
    const other = await fetch(`${server.url}/api/orders`, {
      method: 'POST',
      headers: { origin: otherOrigin },
    })
    assert.equal(other.status, 401)
    assertNotForOrigin(headerOf(other))
    assertNotForOrigin(headerOf(await fetch(`${server.url}/api/orders`, { method: 'POST' })))
  })
})
