import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { createResourceVerifier, MemoryReplayCache, type ResourceVerifier } from '../src/index.ts'
import { assertRefusal, refusalOf } from './support/challenge.ts'
import { createDPoPKey, createProof, type DPoPKey } from './support/dpop.ts'
import { audience, startIssuer, type TestIssuer } from './support/issuer.ts'

const url = 'https://api.example.com/orders'

function dpopRequest(
  token: string,
  proof: string | undefined,
  init: { method?: string; url?: string } = {},
): Request {
  const headers: Record<string, string> = { authorization: `DPoP ${token}` }
  if (proof !== undefined) headers.dpop = proof
  return new Request(init.url ?? url, { method: init.method ?? 'GET', headers })
}

describe('DPoP-bound tokens (RFC 9449 §7)', () => {
  let issuer: TestIssuer
  let verifier: ResourceVerifier
  let key: DPoPKey
  let token: string

  before(async () => {
    issuer = await startIssuer()
    verifier = createResourceVerifier({ issuer: issuer.issuer, audience })
    key = createDPoPKey()
    token = issuer.token({ cnf: { jkt: key.jkt } })
  })
  after(() => issuer.close())

  it('accepts a bound token with a valid proof', async () => {
    const proof = createProof(key, { htm: 'GET', htu: url, token })
    const { access } = await verifier.verifyRequest(dpopRequest(token, proof))
    assert.equal(access.scheme, 'DPoP')
    assert.equal(access.jkt, key.jkt)
  })

  it('compares htu without query and fragment, after normalisation', async () => {
    await verifier.verifyRequest(
      dpopRequest(token, createProof(key, { htm: 'GET', htu: 'HTTPS://API.example.com:443/orders', token }), {
        url: `${url}?page=2`,
      }),
    )
    await verifier.verifyRequest(
      dpopRequest(token, createProof(key, { htm: 'POST', htu: `${url}?ignored#too`, token }), {
        method: 'POST',
      }),
    )
  })

  it('refuses a bound token sent as Bearer', async () => {
    const proof = createProof(key, { htm: 'GET', htu: url, token })
    const error = await refusalOf(
      verifier.verifyRequest(
        new Request(url, { headers: { authorization: `Bearer ${token}`, dpop: proof } }),
      ),
    )
    assertRefusal(error, { status: 401, code: 'invalid_token', scheme: 'DPoP', message: /DPoP-bound/ })
  })

  it('refuses an unbound token sent as DPoP', async () => {
    const unbound = issuer.token()
    const error = await refusalOf(
      verifier.verifyRequest(
        dpopRequest(unbound, createProof(key, { htm: 'GET', htu: url, token: unbound })),
      ),
    )
    assertRefusal(error, { status: 401, code: 'invalid_token', scheme: 'Bearer', message: /not DPoP-bound/ })
  })

  const refusals: [string, () => Request, RegExp][] = [
    ['a missing proof', () => dpopRequest(token, undefined), /proof is required/],
    [
      'two DPoP headers',
      () => {
        const request = dpopRequest(token, createProof(key, { htm: 'GET', htu: url, token }))
        request.headers.append('dpop', createProof(key, { htm: 'GET', htu: url, token }))
        return request
      },
      /exactly one/,
    ],
    ['a proof that is not a JWT', () => dpopRequest(token, 'not-a-proof'), /not a JWT/],
    [
      'a proof by another key (jkt mismatch)',
      () => dpopRequest(token, createProof(createDPoPKey(), { htm: 'GET', htu: url, token })),
      /not the access token's key/,
    ],
    [
      'a proof with a wrong ath',
      () => dpopRequest(token, createProof(key, { htm: 'GET', htu: url, token: issuer.token() })),
      /ath/,
    ],
    ['a proof without ath', () => dpopRequest(token, createProof(key, { htm: 'GET', htu: url })), /ath/],
    [
      'a proof with a wrong htm',
      () => dpopRequest(token, createProof(key, { htm: 'POST', htu: url, token })),
      /htm/,
    ],
    [
      'a proof with a wrong htu',
      () => dpopRequest(token, createProof(key, { htm: 'GET', htu: 'https://api.example.com/admin', token })),
      /htu/,
    ],
    [
      'a proof for another host',
      () =>
        dpopRequest(token, createProof(key, { htm: 'GET', htu: 'https://evil.example.com/orders', token })),
      /htu/,
    ],
    [
      'a proof with a relative htu',
      () => dpopRequest(token, createProof(key, { htm: 'GET', htu: '/orders', token })),
      /htu/,
    ],
    [
      'an old proof',
      () =>
        dpopRequest(
          token,
          createProof(key, {
            htm: 'GET',
            htu: url,
            token,
            claims: { iat: Math.floor(Date.now() / 1000) - 120 },
          }),
        ),
      /iat/,
    ],
    [
      'a proof from the future',
      () =>
        dpopRequest(
          token,
          createProof(key, {
            htm: 'GET',
            htu: url,
            token,
            claims: { iat: Math.floor(Date.now() / 1000) + 60 },
          }),
        ),
      /iat/,
    ],
    [
      'a proof without jti',
      () => dpopRequest(token, createProof(key, { htm: 'GET', htu: url, token, claims: { jti: undefined } })),
      /jti/,
    ],
    [
      'a proof with typ JWT',
      () => dpopRequest(token, createProof(key, { htm: 'GET', htu: url, token, header: { typ: 'JWT' } })),
      /typ/,
    ],
    [
      'a proof with alg HS256',
      () => dpopRequest(token, createProof(key, { htm: 'GET', htu: url, token, header: { alg: 'HS256' } })),
      /alg/,
    ],
    [
      'a proof whose alg does not fit its key',
      () => dpopRequest(token, createProof(key, { htm: 'GET', htu: url, token, header: { alg: 'ES384' } })),
      /fit/,
    ],
    [
      'a proof carrying a private key',
      () => {
        const jwk = { ...key.publicJWK, d: key.privateKey.export({ format: 'jwk' }).d }
        return dpopRequest(token, createProof(key, { htm: 'GET', htu: url, token, header: { jwk } }))
      },
      /public key/,
    ],
    [
      'a proof with a bad signature',
      () => {
        const proof = createProof(key, { htm: 'GET', htu: url, token })
        const other = createProof(key, { htm: 'GET', htu: url, token })
        return dpopRequest(token, `${proof.split('.').slice(0, 2).join('.')}.${other.split('.')[2]}`)
      },
      /signature/,
    ],
  ]
  for (const [what, make, message] of refusals) {
    it(`refuses ${what}`, async () => {
      const error = await refusalOf(verifier.verifyRequest(make()))
      assertRefusal(error, { status: 401, code: 'invalid_dpop_proof', scheme: 'DPoP', message })
    })
  }

  it('refuses a replayed proof, and a rejected proof does not use up its jti', async () => {
    const proof = createProof(key, { htm: 'GET', htu: url, token })
    // Sent first with the wrong method: refused, but not remembered.
    await refusalOf(verifier.verifyRequest(dpopRequest(token, proof, { method: 'POST' })))
    await verifier.verifyRequest(dpopRequest(token, proof))
    const error = await refusalOf(verifier.verifyRequest(dpopRequest(token, proof)))
    assertRefusal(error, { status: 401, code: 'invalid_dpop_proof', scheme: 'DPoP', message: /used before/ })
  })

  it('uses the replay cache it is given, and answers 503 when it fails', async () => {
    const keys: [string, number][] = []
    const shared = createResourceVerifier({
      issuer: issuer.issuer,
      audience,
      dpopMaxAge: 30,
      clockTolerance: 2,
      replayCache: {
        async addIfAbsent(cacheKey, ttlSeconds) {
          keys.push([cacheKey, ttlSeconds])
          return true
        },
      },
    })
    await shared.verifyRequest(
      dpopRequest(token, createProof(key, { htm: 'GET', htu: url, token, claims: { jti: 'j1' } })),
    )
    assert.deepEqual(keys, [[`${key.jkt}:j1`, 32]])

    const broken = createResourceVerifier({
      issuer: issuer.issuer,
      audience,
      replayCache: {
        addIfAbsent: () => Promise.reject(new Error('redis is down')),
      },
    })
    const error = await refusalOf(
      broken.verifyRequest(dpopRequest(token, createProof(key, { htm: 'GET', htu: url, token }))),
    )
    assert.ok(error instanceof Error)
    assert.equal((error as { status?: number }).status, 503)
    assert.doesNotMatch(error.message, /redis/)
  })

  it('forgets proofs once they are too old to be accepted anyway', async () => {
    const cache = new MemoryReplayCache()
    assert.equal(await cache.addIfAbsent('a', 0.05), true)
    assert.equal(await cache.addIfAbsent('a', 0.05), false)
    await new Promise((resolve) => setTimeout(resolve, 60))
    assert.equal(await cache.addIfAbsent('b', 60), true)
    assert.equal(cache.size, 1)
    assert.equal(await cache.addIfAbsent('a', 60), true)
  })

  it('uses publicUrl for htu behind a proxy', async () => {
    const proxied = createResourceVerifier({
      issuer: issuer.issuer,
      audience,
      publicUrl: 'https://public.example.com/api/',
    })
    const internal = 'http://10.0.0.5:3000/orders?x=1'
    const proof = createProof(key, { htm: 'GET', htu: 'https://public.example.com/api/orders', token })
    await proxied.verifyRequest(dpopRequest(token, proof, { url: internal }))
    const error = await refusalOf(
      proxied.verifyRequest(
        dpopRequest(token, createProof(key, { htm: 'GET', htu: internal, token }), { url: internal }),
      ),
    )
    assertRefusal(error, { status: 401, code: 'invalid_dpop_proof', scheme: 'DPoP', message: /htu/ })
  })

  it('takes scheme and host from Forwarded or X-Forwarded-* with trustProxy', async () => {
    const proxied = createResourceVerifier({ issuer: issuer.issuer, audience, trustProxy: true })
    const internal = 'http://10.0.0.5:3000/orders'
    const forwarded = dpopRequest(
      token,
      createProof(key, { htm: 'GET', htu: 'https://shop.example.com/orders', token }),
      {
        url: internal,
      },
    )
    forwarded.headers.set('forwarded', 'for=1.2.3.4;proto=https;host="shop.example.com", for=10.0.0.1')
    await proxied.verifyRequest(forwarded)
    const xForwarded = dpopRequest(
      token,
      createProof(key, { htm: 'GET', htu: 'https://api.example.com/orders', token }),
      {
        url: internal,
      },
    )
    xForwarded.headers.set('x-forwarded-proto', 'https')
    xForwarded.headers.set('x-forwarded-host', 'api.example.com')
    await proxied.verifyRequest(xForwarded)
    // Without trustProxy the same headers are ignored.
    const ignored = dpopRequest(
      token,
      createProof(key, { htm: 'GET', htu: 'https://api.example.com/orders', token }),
      {
        url: internal,
      },
    )
    ignored.headers.set('x-forwarded-proto', 'https')
    ignored.headers.set('x-forwarded-host', 'api.example.com')
    assertRefusal(await refusalOf(verifier.verifyRequest(ignored)), {
      status: 401,
      code: 'invalid_dpop_proof',
      scheme: 'DPoP',
      message: /htu/,
    })
  })

  it('refuses unbound tokens altogether with requireDPoP', async () => {
    const strict = createResourceVerifier({ issuer: issuer.issuer, audience, requireDPoP: true })
    const error = await refusalOf(
      strict.verifyRequest(new Request(url, { headers: { authorization: `Bearer ${issuer.token()}` } })),
    )
    assertRefusal(error, { status: 401, code: 'invalid_token', scheme: 'DPoP', message: /DPoP-bound/ })
    const missing = await refusalOf(strict.verifyRequest(new Request(url)))
    assertRefusal(missing, { status: 401, code: 'invalid_token', scheme: 'DPoP', hasErrorCode: false })
    await strict.verifyRequest(dpopRequest(token, createProof(key, { htm: 'GET', htu: url, token })))
  })

  it('asks for a server nonce with use_dpop_nonce and DPoP-Nonce when nonces are on', async () => {
    const withNonces = createResourceVerifier({
      issuer: issuer.issuer,
      audience,
      dpopNonce: { secret: randomBytes(32) },
    })
    const error = await refusalOf(
      withNonces.verifyRequest(dpopRequest(token, createProof(key, { htm: 'GET', htu: url, token }))),
    )
    const refusal = assertRefusal(error, { status: 401, code: 'use_dpop_nonce', scheme: 'DPoP' })
    const nonce = refusal.headers['dpop-nonce']
    assert.ok(nonce)
    await withNonces.verifyRequest(
      dpopRequest(token, createProof(key, { htm: 'GET', htu: url, token, claims: { nonce } })),
    )
    const wrong = await refusalOf(
      withNonces.verifyRequest(
        dpopRequest(token, createProof(key, { htm: 'GET', htu: url, token, claims: { nonce: `${nonce}x` } })),
      ),
    )
    assertRefusal(wrong, { status: 401, code: 'use_dpop_nonce', scheme: 'DPoP' })
    assert.throws(() =>
      createResourceVerifier({ issuer: issuer.issuer, audience, dpopNonce: { secret: randomBytes(8) } }),
    )
  })

  it('checks the scope after the proof, and challenges with the DPoP scheme', async () => {
    const error = await refusalOf(
      verifier.verifyRequest(dpopRequest(token, createProof(key, { htm: 'GET', htu: url, token })), {
        requiredScopes: ['admin'],
      }),
    )
    assertRefusal(error, { status: 403, code: 'insufficient_scope', scheme: 'DPoP' })
  })
})
