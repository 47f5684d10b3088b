import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import type { JWK } from 'jose'
import { createResourceVerifier, type ResourceVerifier } from '../src/index.ts'
import { assertRefusal, refusalOf } from './support/challenge.ts'
import { createDPoPKey, createProof, type DPoPKey, sha256 } from './support/dpop.ts'
import { createResponseKey, decryptResponse, encryptBody } from './support/encryption-client.ts'
import { audience, startIssuer, type TestIssuer } from './support/issuer.ts'

const url = 'https://api.example.com/orders'

function encryptionKey(kid: string) {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  return { privateKey: privateKey.export({ format: 'jwk' }), kid }
}

describe('end-to-end payload encryption', () => {
  let issuer: TestIssuer
  let verifier: ResourceVerifier
  let resourceJWK: JWK
  let key: DPoPKey
  let token: string

  before(async () => {
    issuer = await startIssuer()
    const previous = encryptionKey('enc-0')
    verifier = createResourceVerifier({
      issuer: issuer.issuer,
      audience,
      encryption: { ...encryptionKey('enc-1'), previousKeys: [previous] },
    })
    resourceJWK = verifier.encryptionJWKS().keys[0]!
    key = createDPoPKey()
    token = issuer.token({ cnf: { jkt: key.jkt } })
  })
  after(() => issuer.close())

  interface Call {
    body?: string
    contentType?: string
    responseKey?: string
    claims?: Record<string, unknown>
  }

  function request(call: Call): Request {
    const headers: Record<string, string> = {
      authorization: `DPoP ${token}`,
      dpop: createProof(key, { htm: 'POST', htu: url, token, claims: call.claims }),
    }
    if (call.contentType) headers['content-type'] = call.contentType
    if (call.responseKey) headers['onramp-response-key'] = call.responseKey
    return new Request(url, { method: 'POST', headers, body: call.body ?? null })
  }

  it('publishes the public key only', () => {
    const jwks = verifier.encryptionJWKS()
    assert.equal(jwks.keys.length, 1)
    assert.deepEqual(Object.keys(jwks.keys[0]!).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'])
    assert.equal(jwks.keys[0]!.alg, 'ECDH-ES+A256KW')
    assert.equal(jwks.keys[0]!.use, 'enc')
    assert.equal(jwks.keys[0]!.kid, 'enc-1')
  })

  it('decrypts a request and encrypts the response to the client key (round trip)', async () => {
    const body = await encryptBody(resourceJWK, '{"item":"book","quantity":2}', 'application/json')
    const responseKey = await createResponseKey()
    const verified = await verifier.verifyRequest(
      request({
        body,
        contentType: 'application/jose',
        responseKey: responseKey.header,
        claims: { ebh: sha256(body), rkt: responseKey.thumbprint },
      }),
    )
    assert.equal(verified.request.headers.get('content-type'), 'application/json')
    assert.deepEqual(await verified.request.json(), { item: 'book', quantity: 2 })

    const response = await verified.encryptResponse(Response.json({ ordered: true }, { status: 201 }))
    assert.equal(response.status, 201)
    assert.equal(response.headers.get('content-type'), 'application/jose')
    const decrypted = await decryptResponse(await response.text(), responseKey)
    assert.deepEqual(JSON.parse(decrypted.text), { ordered: true })
    assert.equal(decrypted.contentType, 'application/json')
  })

  it('still decrypts with a previous key after a rotation', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const rotated = createResourceVerifier({
      issuer: issuer.issuer,
      audience,
      encryption: { privateKey, kid: 'enc-2', previousKeys: [{ ...encryptionKey('unused') }] },
    })
    assert.equal(rotated.encryptionJWKS().keys[0]!.kid, 'enc-2')
    const body = await encryptBody(rotated.encryptionJWKS().keys[0]!, 'hello', 'text/plain')
    const verified = await rotated.verifyRequest(
      request({ body, contentType: 'application/jose', claims: { ebh: sha256(body) } }),
    )
    assert.equal(await verified.request.text(), 'hello')
  })

  it('leaves responses alone when the client asked for none, and plain requests as they are', async () => {
    const plain = request({ body: '{"a":1}', contentType: 'application/json' })
    const verified = await verifier.verifyRequest(plain)
    assert.equal(verified.request, plain)
    const response = Response.json({ ok: true })
    assert.equal(await verified.encryptResponse(response), response)
  })

  it('sends empty responses as they are', async () => {
    const responseKey = await createResponseKey()
    const verified = await verifier.verifyRequest(
      request({ responseKey: responseKey.header, claims: { rkt: responseKey.thumbprint } }),
    )
    const response = await verified.encryptResponse(new Response(null, { status: 204 }))
    assert.equal(response.status, 204)
    assert.equal(response.headers.get('content-type'), null)
  })

  it('refuses a tampered JWE with 400 invalid_request', async () => {
    const body = await encryptBody(resourceJWK, '{"amount":1}', 'application/json')
    const parts = body.split('.')
    const ciphertext = Buffer.from(parts[3]!, 'base64url')
    ciphertext[0]! ^= 1
    parts[3] = ciphertext.toString('base64url')
    const tampered = parts.join('.')
    const error = await refusalOf(
      verifier.verifyRequest(
        request({ body: tampered, contentType: 'application/jose', claims: { ebh: sha256(tampered) } }),
      ),
    )
    assertRefusal(error, {
      status: 400,
      code: 'invalid_request',
      scheme: 'DPoP',
      message: /cannot be decrypted/,
    })
  })

  const undecryptable: [string, () => Promise<string>, RegExp][] = [
    ['a body that is not a JWE', async () => 'hello', /cannot be decrypted/],
    [
      'a JWE for an unknown kid',
      () => encryptBody({ ...resourceJWK, kid: 'other' }, '{}', 'application/json'),
      /cannot be decrypted/,
    ],
    [
      'a JWE with another enc',
      () => encryptBody(resourceJWK, '{}', 'application/json', { enc: 'A128GCM' }),
      /cannot be decrypted/,
    ],
    [
      'a JWE without cty',
      () => encryptBody(resourceJWK, '{}', 'application/json', { cty: undefined }),
      /cty/,
    ],
  ]
  for (const [what, make, message] of undecryptable) {
    it(`refuses ${what}`, async () => {
      const body = await make()
      const error = await refusalOf(
        verifier.verifyRequest(
          request({ body, contentType: 'application/jose', claims: { ebh: sha256(body) } }),
        ),
      )
      assertRefusal(error, { status: 400, code: 'invalid_request', scheme: 'DPoP', message })
    })
  }

  it('refuses an encrypted body the proof does not name (ebh), so it cannot be swapped', async () => {
    const body = await encryptBody(resourceJWK, '{"to":"attacker"}', 'application/json')
    const missing = await refusalOf(
      verifier.verifyRequest(request({ body, contentType: 'application/jose' })),
    )
    assertRefusal(missing, { status: 401, code: 'invalid_dpop_proof', scheme: 'DPoP', message: /ebh/ })
    const other = await refusalOf(
      verifier.verifyRequest(
        request({ body, contentType: 'application/jose', claims: { ebh: sha256('other') } }),
      ),
    )
    assertRefusal(other, { status: 401, code: 'invalid_dpop_proof', scheme: 'DPoP', message: /ebh/ })
  })

  it('refuses a proof naming an encrypted body when the body came in clear (stripped encryption)', async () => {
    const error = await refusalOf(
      verifier.verifyRequest(
        request({ body: '{}', contentType: 'application/json', claims: { ebh: sha256('x') } }),
      ),
    )
    assertRefusal(error, { status: 401, code: 'invalid_dpop_proof', scheme: 'DPoP', message: /ebh/ })
  })

  it('refuses a response key the proof does not name (rkt), and an rkt without a response key', async () => {
    const responseKey = await createResponseKey()
    const swapped = await refusalOf(verifier.verifyRequest(request({ responseKey: responseKey.header })))
    assertRefusal(swapped, { status: 401, code: 'invalid_dpop_proof', scheme: 'DPoP', message: /rkt/ })
    const stripped = await refusalOf(
      verifier.verifyRequest(request({ claims: { rkt: responseKey.thumbprint } })),
    )
    assertRefusal(stripped, { status: 401, code: 'invalid_dpop_proof', scheme: 'DPoP', message: /rkt/ })
  })

  it('refuses a malformed or private response key with 400', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const privateJWK = privateKey.export({ format: 'jwk' })
    const values = [
      'not base64url!',
      Buffer.from('[]').toString('base64url'),
      Buffer.from(JSON.stringify({ kty: 'OKP', crv: 'X25519', x: 'abc' })).toString('base64url'),
      Buffer.from(JSON.stringify(privateJWK)).toString('base64url'),
      Buffer.from(JSON.stringify({ ...privateJWK, d: undefined, y: privateJWK.x })).toString('base64url'),
    ]
    for (const value of values) {
      const error = await refusalOf(verifier.verifyRequest(request({ responseKey: value })))
      assertRefusal(error, {
        status: 400,
        code: 'invalid_request',
        scheme: 'DPoP',
        message: /Onramp-Response-Key/,
      })
    }
  })

  it('refuses a response key when encryption is not configured, rather than answer in clear', async () => {
    const plainVerifier = createResourceVerifier({ issuer: issuer.issuer, audience })
    const responseKey = await createResponseKey()
    const error = await refusalOf(
      plainVerifier.verifyRequest(
        request({ responseKey: responseKey.header, claims: { rkt: responseKey.thumbprint } }),
      ),
    )
    assertRefusal(error, { status: 400, code: 'invalid_request', scheme: 'DPoP', message: /not enabled/ })
    assert.throws(() => plainVerifier.encryptionJWKS(), TypeError)
  })

  it('works with Bearer tokens, without bindings', async () => {
    const bearerToken = issuer.token()
    const body = await encryptBody(resourceJWK, 'hi', 'text/plain')
    const responseKey = await createResponseKey()
    const verified = await verifier.verifyRequest(
      new Request(url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${bearerToken}`,
          'content-type': 'application/jose',
          'onramp-response-key': responseKey.header,
        },
        body,
      }),
    )
    assert.equal(await verified.request.text(), 'hi')
    const response = await verified.encryptResponse(
      new Response('ok', { headers: { 'content-type': 'text/plain' } }),
    )
    assert.equal((await decryptResponse(await response.text(), responseKey)).text, 'ok')
  })

  it('refuses encryption keys that are not P-256 private keys', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' })
    assert.throws(() =>
      createResourceVerifier({ issuer: issuer.issuer, audience, encryption: { privateKey, kid: 'k' } }),
    )
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    assert.throws(() =>
      createResourceVerifier({
        issuer: issuer.issuer,
        audience,
        encryption: { privateKey: publicKey, kid: 'k' },
      }),
    )
  })
})
