import assert from 'node:assert/strict'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import Fastify, { type FastifyInstance } from 'fastify'
import type { JWK } from 'jose'
import { onrampResource } from '../src/index.ts'
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

const publicUrl = 'https://api.example.com'

describe('Fastify plugin', () => {
  let issuer: TestIssuer
  let app: FastifyInstance
  let key: DPoPKey
  let token: string
  let resourceJWK: JWK

  before(async () => {
    issuer = await startIssuer()
    key = createDPoPKey()
    token = issuer.token({ cnf: { jkt: key.jkt } })
    app = Fastify()
    app.get('/before', async () => ({ open: true }))
    await app.register(onrampResource, {
      issuer: issuer.issuer,
      audience,
      publicUrl,
      encryption: { privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, kid: 'enc-1' },
    })
    app.get('/orders', async (request) => ({ sub: request.onramp.claims.sub, scheme: request.onramp.scheme }))
    app.post(
      '/orders',
      {
        config: { onramp: { scopes: ['demo:write'] } },
        schema: {
          body: {
            type: 'object',
            required: ['item'],
            properties: { item: { type: 'string' } },
            additionalProperties: false,
          },
        },
      },
      async (request, reply) => reply.code(201).send({ ordered: (request.body as { item: string }).item }),
    )
    app.get('/admin', { config: { onramp: { scopes: ['admin'] } } }, async () => ({ admin: true }))
    app.get('/health', { config: { onramp: false } }, async (request) => ({
      ok: true,
      onramp: request.onramp,
    }))
    app.get('/fails', async () => {
      throw Object.assign(new Error('out of stock'), { statusCode: 409 })
    })
    await app.ready()
    resourceJWK = (await app.inject('/.well-known/onramp-encryption-jwks')).json<{ keys: JWK[] }>().keys[0]!
  })
  after(async () => {
    await app.close()
    await issuer.close()
  })

  function dpop(method: string, path: string, claims?: Record<string, unknown>): Record<string, string> {
    return {
      authorization: `DPoP ${token}`,
      dpop: createProof(key, { htm: method, htu: `${publicUrl}${path}`, token, claims }),
    }
  }

  it('sets request.onramp for a valid DPoP request', async () => {
    const response = await app.inject({ url: '/orders?page=1', headers: dpop('GET', '/orders') })
    assert.equal(response.statusCode, 200, response.body)
    assert.deepEqual(response.json(), { sub: 'subject-1', scheme: 'DPoP' })
  })

  it('accepts a Bearer token, with the URL from Fastify when no publicUrl is set', async () => {
    const plain = Fastify()
    await plain.register(onrampResource, { issuer: issuer.issuer, audience })
    plain.get('/me', async (request) => ({ sub: request.onramp.claims.sub }))
    const bearer = await plain.inject({ url: '/me', headers: { authorization: `Bearer ${issuer.token()}` } })
    assert.equal(bearer.statusCode, 200, bearer.body)
    const bound = await plain.inject({
      url: '/me',
      headers: {
        host: 'shop.example.com:8080',
        authorization: `DPoP ${token}`,
        dpop: createProof(key, { htm: 'GET', htu: 'http://shop.example.com:8080/me', token }),
      },
    })
    assert.equal(bound.statusCode, 200, bound.body)
    await plain.close()
  })

  it('answers refusals with the challenge and a JSON body, before reading the body', async () => {
    const missing = await app.inject({ url: '/orders' })
    assert.equal(missing.statusCode, 401)
    assertChallenge(missing.headers['www-authenticate'] as string, {
      status: 401,
      code: 'invalid_token',
      scheme: 'both',
      hasErrorCode: false,
    })
    assert.equal(missing.headers['cache-control'], 'no-store')
    assert.deepEqual(missing.json(), {
      error: 'invalid_token',
      error_description: 'an access token is required',
    })

    const replayed = dpop('GET', '/orders')
    assert.equal((await app.inject({ url: '/orders', headers: replayed })).statusCode, 200)
    const again = await app.inject({ url: '/orders', headers: replayed })
    assert.equal(again.statusCode, 401)
    assertChallenge(again.headers['www-authenticate'] as string, {
      status: 401,
      code: 'invalid_dpop_proof',
      scheme: 'DPoP',
    })
    assert.equal(again.json().error, 'invalid_dpop_proof')

    const asBearer = await app.inject({ url: '/orders', headers: { authorization: `Bearer ${token}` } })
    assert.equal(asBearer.statusCode, 401)
    assertChallenge(asBearer.headers['www-authenticate'] as string, {
      status: 401,
      code: 'invalid_token',
      scheme: 'DPoP',
    })
  })

  it('applies route scopes: 403 insufficient_scope', async () => {
    const response = await app.inject({ url: '/admin', headers: dpop('GET', '/admin') })
    assert.equal(response.statusCode, 403)
    assertChallenge(response.headers['www-authenticate'] as string, {
      status: 403,
      code: 'insufficient_scope',
      scheme: 'DPoP',
    })
    assert.match(response.headers['www-authenticate'] as string, /scope="admin"/)
  })

  it('leaves open routes and routes registered before it alone', async () => {
    assert.deepEqual((await app.inject('/health')).json(), { ok: true, onramp: null })
    assert.deepEqual((await app.inject('/before')).json(), { open: true })
  })

  it('serves the encryption JWKS', async () => {
    const response = await app.inject('/.well-known/onramp-encryption-jwks')
    assert.equal(response.statusCode, 200)
    assert.match(response.headers['content-type'] as string, /^application\/jwk-set\+json/)
    assert.equal(response.headers['cache-control'], 'public, max-age=300')
    assert.equal(resourceJWK.kid, 'enc-1')
    assert.equal(resourceJWK.d, undefined)
  })

  it('decrypts the body before schema validation and encrypts the reply', async () => {
    const body = await encryptBody(resourceJWK, JSON.stringify({ item: 'book' }), 'application/json')
    const responseKey = await createResponseKey()
    const response = await app.inject({
      method: 'POST',
      url: '/orders',
      headers: {
        ...dpop('POST', '/orders', { ebh: sha256(body), rkt: responseKey.thumbprint }),
        'content-type': 'application/jose',
        'onramp-response-key': responseKey.header,
      },
      payload: body,
    })
    assert.equal(response.statusCode, 201, response.body)
    assert.equal(response.headers['content-type'], 'application/jose')
    const decrypted = await decryptResponse(response.body, responseKey)
    assert.deepEqual(JSON.parse(decrypted.text), { ordered: 'book' })
    assert.match(String(decrypted.contentType), /^application\/json/)
  })

  it('validates the decrypted body with the route schema (the 400 goes back encrypted)', async () => {
    const body = await encryptBody(resourceJWK, JSON.stringify({ nothing: true }), 'application/json')
    const responseKey = await createResponseKey()
    const response = await app.inject({
      method: 'POST',
      url: '/orders',
      headers: {
        ...dpop('POST', '/orders', { ebh: sha256(body), rkt: responseKey.thumbprint }),
        'content-type': 'application/jose',
        'onramp-response-key': responseKey.header,
      },
      payload: body,
    })
    assert.equal(response.statusCode, 400)
    assert.equal(response.headers['content-type'], 'application/jose')
    assert.match((await decryptResponse(response.body, responseKey)).text, /item/)
  })

  it('encrypts the application errors but not its own refusals', async () => {
    const responseKey = await createResponseKey()
    const failing = await app.inject({
      url: '/fails',
      headers: {
        ...dpop('GET', '/fails', { rkt: responseKey.thumbprint }),
        'onramp-response-key': responseKey.header,
      },
    })
    assert.equal(failing.statusCode, 409)
    assert.equal(failing.headers['content-type'], 'application/jose')
    assert.match((await decryptResponse(failing.body, responseKey)).text, /out of stock/)

    const body = await encryptBody(resourceJWK, '{"item":"x"}', 'application/json')
    const tampered = `${body.slice(0, -4)}AAAA`
    const refused = await app.inject({
      method: 'POST',
      url: '/orders',
      headers: {
        ...dpop('POST', '/orders', { ebh: sha256(tampered), rkt: responseKey.thumbprint }),
        'content-type': 'application/jose',
        'onramp-response-key': responseKey.header,
      },
      payload: tampered,
    })
    assert.equal(refused.statusCode, 400)
    assert.match(refused.headers['content-type'] as string, /^application\/json/)
    assertChallenge(refused.headers['www-authenticate'] as string, {
      status: 400,
      code: 'invalid_request',
      scheme: 'DPoP',
    })
    assert.deepEqual(refused.json(), {
      error: 'invalid_request',
      error_description: 'the request body cannot be decrypted',
    })
  })

  it('shares a verifier between registrations', async () => {
    const { createResourceVerifier } = await import('../src/index.ts')
    const verifier = createResourceVerifier({ issuer: issuer.issuer, audience })
    const shared = Fastify()
    await shared.register(
      async (scope) => {
        await scope.register(onrampResource, { verifier })
        scope.get('/a', async (request) => request.onramp.claims.client_id)
      },
      { prefix: '/v1' },
    )
    shared.get('/open', async () => 'open')
    assert.equal(
      (await shared.inject({ url: '/v1/a', headers: { authorization: `Bearer ${issuer.token()}` } })).body,
      'demo-app',
    )
    assert.equal((await shared.inject('/v1/a')).statusCode, 401)
    assert.equal((await shared.inject('/open')).body, 'open')
    await shared.close()
  })
})

describe('Fastify plugin with cors', () => {
  let issuer: TestIssuer
  let app: FastifyInstance
  let key: DPoPKey
  let token: string

  before(async () => {
    issuer = await startIssuer()
    key = createDPoPKey()
    token = issuer.token({ cnf: { jkt: key.jkt } })
    app = Fastify()
    await app.register(onrampResource, {
      issuer: issuer.issuer,
      audience,
      publicUrl,
      dpopNonce: { secret: randomBytes(32) },
      encryption: { privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, kid: 'enc-1' },
      cors: { origins: [pageOrigin], maxAge: 300 },
    })
    app.post('/orders', async (request) => ({ sub: request.onramp.claims.sub }))
    app.get('/admin', { config: { onramp: { scopes: ['admin'] } } }, async () => ({ admin: true }))
    app.get('/fails', async () => {
      throw Object.assign(new Error('out of stock'), { statusCode: 409 })
    })
    await app.ready()
  })
  after(async () => {
    await app.close()
    await issuer.close()
  })

  const headerOf =
    (response: { headers: Record<string, unknown> }) =>
    (name: string): string | undefined => {
      const value = response.headers[name]
      return value === undefined ? undefined : String(value)
    }

  /** A DPoP request from the page, retried once with the nonce the plugin asks for. */
  async function fromPage(method: 'GET' | 'POST', path: string) {
    const request = (nonce?: string) =>
      app.inject({
        method,
        url: path,
        headers: {
          origin: pageOrigin,
          authorization: `DPoP ${token}`,
          dpop: createProof(key, { htm: method, htu: `${publicUrl}${path}`, token, claims: { nonce } }),
        },
      })
    const challenge = await request()
    assert.equal(challenge.statusCode, 401)
    assert.equal(challenge.json().error, 'use_dpop_nonce')
    assertReadable(headerOf(challenge))
    const nonce = headerOf(challenge)('dpop-nonce')
    assert.ok(nonce, 'the page can read DPoP-Nonce: it is exposed')
    return request(nonce)
  }

  it('answers preflights before authentication, for allowed origins only', async () => {
    const allowed = await app.inject({
      method: 'OPTIONS',
      url: '/orders',
      headers: preflightHeaders(pageOrigin),
    })
    assert.equal(allowed.statusCode, 204)
    assert.equal(allowed.body, '')
    assertPreflightAllowed(headerOf(allowed), { maxAge: '300' })
    assert.equal(allowed.headers['www-authenticate'], undefined)

    const unrouted = await app.inject({
      method: 'OPTIONS',
      url: '/nowhere',
      headers: preflightHeaders(pageOrigin),
    })
    assert.equal(unrouted.statusCode, 204)
    assertPreflightAllowed(headerOf(unrouted), { maxAge: '300' })

    const denied = await app.inject({
      method: 'OPTIONS',
      url: '/orders',
      headers: preflightHeaders(otherOrigin),
    })
    assert.equal(denied.statusCode, 204)
    assertNotForOrigin(headerOf(denied))
  })

  it('puts the CORS headers on answers and refusals, so the page can read challenges and nonces', async () => {
    const accepted = await fromPage('POST', '/orders')
    assert.equal(accepted.statusCode, 200, accepted.body)
    assertReadable(headerOf(accepted))

    const missing = await app.inject({ method: 'POST', url: '/orders', headers: { origin: pageOrigin } })
    assert.equal(missing.statusCode, 401)
    assertChallenge(missing.headers['www-authenticate'] as string, {
      status: 401,
      code: 'invalid_token',
      scheme: 'both',
      hasErrorCode: false,
    })
    assertReadable(headerOf(missing))

    const scope = await fromPage('GET', '/admin')
    assert.equal(scope.statusCode, 403)
    assert.equal(scope.json().error, 'insufficient_scope')
    assertReadable(headerOf(scope))

    const failing = await fromPage('GET', '/fails')
    assert.equal(failing.statusCode, 409)
    assertReadable(headerOf(failing))

    const jwks = await app.inject({
      url: '/.well-known/onramp-encryption-jwks',
      headers: { origin: pageOrigin },
    })
    assert.equal(jwks.statusCode, 200)
    assertReadable(headerOf(jwks))
  })

  it('answers other origins, and requests without one, with nothing but Vary', async () => {
    const other = await app.inject({ method: 'POST', url: '/orders', headers: { origin: otherOrigin } })
    assert.equal(other.statusCode, 401)
    assertNotForOrigin(headerOf(other))
    const none = await app.inject({ method: 'POST', url: '/orders' })
    assertNotForOrigin(headerOf(none))
    const noOrigin = await app.inject({
      method: 'OPTIONS',
      url: '/orders',
      headers: { 'access-control-request-method': 'POST' },
    })
    assert.notEqual(noOrigin.statusCode, 204, 'not a preflight without Origin')
  })

  it('refuses origins that browsers never send', async () => {
    for (const origins of [['https://app.example.com/'], ['https://App.example.com'], ['null'], ['*']]) {
      const bad = Fastify()
      await assert.rejects(
        async () => {
          await bad.register(onrampResource, { issuer: issuer.issuer, audience, cors: { origins } })
          await bad.ready()
        },
        { name: 'TypeError', message: /is not an origin/ },
      )
    }
  })
})
