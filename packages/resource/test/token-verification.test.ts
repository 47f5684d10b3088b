import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { createResourceVerifier, type ResourceVerifier } from '../src/index.ts'
import { assertRefusal, refusalOf } from './support/challenge.ts'
import { audience, claimsOf, encode, signJWT, startIssuer, type TestIssuer } from './support/issuer.ts'

const url = 'https://api.example.com/orders'

function bearer(token: string, init: RequestInit = {}): Request {
  return new Request(url, { ...init, headers: { authorization: `Bearer ${token}`, ...init.headers } })
}

describe('access token verification', () => {
  let issuer: TestIssuer
  let verifier: ResourceVerifier

  before(async () => {
    issuer = await startIssuer()
    verifier = createResourceVerifier({ issuer: issuer.issuer, audience })
  })
  after(() => issuer.close())

  it('accepts a valid Bearer token and exposes its claims', async () => {
    const token = issuer.token()
    const { access, request } = await verifier.verifyRequest(bearer(token))
    assert.deepEqual(access.claims, claimsOf(token))
    assert.equal(access.scheme, 'Bearer')
    assert.deepEqual(access.scopes, ['demo:read', 'demo:write'])
    assert.equal(access.jkt, undefined)
    assert.equal(access.isAnonymous, true)
    assert.equal(request.url, url)
  })

  it('accepts an audience array containing ours, and tokens of identified subjects', async () => {
    const token = issuer.token({ aud: ['other-api', audience], acr: '1', amr: ['pwd'] })
    const { access } = await verifier.verifyRequest(bearer(token))
    assert.equal(access.isAnonymous, false)
  })

  it('accepts the scheme name in any case and typ application/at+jwt', async () => {
    const token = issuer.token({}, { header: { typ: 'application/at+jwt' } })
    await verifier.verifyRequest(new Request(url, { headers: { authorization: `bearer ${token}` } }))
  })

  it('asks for a token, without an error code, when there is none (RFC 6750 §3.1)', async () => {
    const error = await refusalOf(verifier.verifyRequest(new Request(url)))
    assertRefusal(error, { status: 401, code: 'invalid_token', scheme: 'both', hasErrorCode: false })
    const basic = await refusalOf(
      verifier.verifyRequest(new Request(url, { headers: { authorization: 'Basic dXNlcjpwYXNz' } })),
    )
    assertRefusal(basic, { status: 401, code: 'invalid_token', scheme: 'both', hasErrorCode: false })
  })

  it('refuses a malformed Authorization header', async () => {
    const error = await refusalOf(
      verifier.verifyRequest(new Request(url, { headers: { authorization: 'Bearer not a token' } })),
    )
    assertRefusal(error, { status: 401, code: 'invalid_token', scheme: 'Bearer', message: /malformed/ })
  })

  const refusals: [string, () => string, RegExp][] = [
    ['a token that is not a JWT', () => 'abc.def', /not a JWT/],
    [
      'a token whose payload was changed',
      () => {
        const [header, , signature] = issuer.token().split('.')
        return `${header}.${encode({ ...claimsOf(issuer.token()), scope: 'admin' })}.${signature}`
      },
      /signature/,
    ],
    [
      'a token whose signature was changed',
      () => {
        const token = issuer.token()
        const flipped = token.at(-2) === 'A' ? 'B' : 'A'
        return `${token.slice(0, -2)}${flipped}${token.at(-1)}`
      },
      /signature/,
    ],
    ['a token for another audience', () => issuer.token({ aud: 'other-api' }), /audience/],
    ['a token with an empty audience array', () => issuer.token({ aud: [] }), /audience/],
    ['a token of another issuer', () => issuer.token({ iss: 'https://evil.example.com/t/demo' }), /issuer/],
    ['an expired token', () => issuer.token({ exp: Math.floor(Date.now() / 1000) - 10 }), /expired/],
    ['a token without exp', () => issuer.token({ exp: undefined }), /exp/],
    [
      'a token not valid yet',
      () => issuer.token({ nbf: Math.floor(Date.now() / 1000) + 60 }),
      /not valid yet/,
    ],
    ['a token issued in the future', () => issuer.token({ iat: Math.floor(Date.now() / 1000) + 60 }), /iat/],
    ['a token without sub', () => issuer.token({ sub: undefined }), /sub/],
    ['an ID token (typ JWT)', () => issuer.token({}, { header: { typ: 'JWT' } }), /typ at\+jwt/],
    ['a token without typ', () => issuer.token({}, { header: { typ: undefined } }), /typ at\+jwt/],
    [
      'a token with alg none',
      () =>
        `${encode({ alg: 'none', typ: 'at+jwt', kid: issuer.key.kid })}.${encode(claimsOf(issuer.token()))}.`,
      /not a JWT/,
    ],
    [
      'a token with alg none and a signature',
      () =>
        `${encode({ alg: 'none', typ: 'at+jwt', kid: issuer.key.kid })}.${encode(claimsOf(issuer.token()))}.AAAA`,
      /algorithm/,
    ],
    ['a token with alg HS256', () => issuer.token({}, { header: { alg: 'HS256' } }), /algorithm/],
    ['a token with alg ES384', () => issuer.token({}, { header: { alg: 'ES384' } }), /algorithm/],
    ['a token with an unknown kid', () => issuer.token({}, { header: { kid: 'nobody' } }), /unknown key/],
    ['a token with crit', () => issuer.token({}, { header: { crit: ['exp'] } }), /critical/],
    ['a token bound to something we cannot check', () => issuer.token({ cnf: { 'x5t#S256': 'abc' } }), /cnf/],
    // Found by the fuzz test: an amr that is not an array made isAnonymous throw a TypeError.
    ['a token whose amr is not an array of strings', () => issuer.token({ amr: 'anon' }), /amr/],
    ['a token whose amr holds a number', () => issuer.token({ amr: ['anon', 7] }), /amr/],
    ['a token whose acr is not a string', () => issuer.token({ acr: 0 }), /acr/],
    [
      'a token signed by a key the issuer does not publish, under its kid',
      () => {
        const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
        return signJWT(
          privateKey,
          { alg: 'ES256', typ: 'at+jwt', kid: issuer.key.kid },
          claimsOf(issuer.token()),
        )
      },
      /signature/,
    ],
  ]
  for (const [what, make, message] of refusals) {
    it(`refuses ${what}`, async () => {
      const error = await refusalOf(verifier.verifyRequest(bearer(make())))
      assertRefusal(error, { status: 401, code: 'invalid_token', scheme: 'Bearer', message })
    })
  }

  it('allows clockTolerance of skew on exp', async () => {
    const lenient = createResourceVerifier({ issuer: issuer.issuer, audience, clockTolerance: 30 })
    await lenient.verifyRequest(bearer(issuer.token({ exp: Math.floor(Date.now() / 1000) - 10 })))
  })

  it('refuses a token that lacks a required scope with 403 and names the scopes', async () => {
    const strict = createResourceVerifier({ issuer: issuer.issuer, audience, requiredScopes: ['demo:read'] })
    await strict.verifyRequest(bearer(issuer.token({ scope: 'demo:read' })))
    const error = await refusalOf(
      strict.verifyRequest(bearer(issuer.token({ scope: 'demo:read' })), { requiredScopes: ['demo:write'] }),
    )
    const refusal = assertRefusal(error, { status: 403, code: 'insufficient_scope', scheme: 'Bearer' })
    assert.match(refusal.headers['www-authenticate']!, /scope="demo:read demo:write"/)
    const none = await refusalOf(strict.verifyRequest(bearer(issuer.token({ scope: undefined }))))
    assertRefusal(none, { status: 403, code: 'insufficient_scope', scheme: 'Bearer' })
  })

  it('makes a WHATWG Response of a refusal', async () => {
    const error = await refusalOf(verifier.verifyRequest(bearer(issuer.token({ aud: 'x' }))))
    assert.ok(error instanceof Error && 'toResponse' in error)
    const response = (error as { toResponse(): Response }).toResponse()
    assert.equal(response.status, 401)
    assert.match(response.headers.get('www-authenticate')!, /^Bearer error="invalid_token"/)
    assert.equal(response.headers.get('content-type'), 'application/json')
    assert.deepEqual(await response.json(), {
      error: 'invalid_token',
      error_description: 'the access token is for another audience',
    })
  })

  it('refuses unusable options at once', () => {
    assert.throws(() => createResourceVerifier({ issuer: 'not a url', audience }), TypeError)
    assert.throws(() => createResourceVerifier({ issuer: issuer.issuer, audience: [] }), TypeError)
    assert.throws(
      () => createResourceVerifier({ issuer: issuer.issuer, audience, algorithms: ['HS256' as 'ES256'] }),
      TypeError,
    )
  })
})
