import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { createResourceVerifier, type ResourceVerifier } from '../src/index.ts'
import { assertRefusal, refusalOf } from './support/challenge.ts'
import { audience, startIssuer, type TestIssuer } from './support/issuer.ts'

function bearer(token: string): Request {
  return new Request('https://api.example.com/orders', { headers: { authorization: `Bearer ${token}` } })
}

describe("the issuer's keys", () => {
  let issuer: TestIssuer
  let verifier: ResourceVerifier

  beforeEach(async () => {
    issuer = await startIssuer()
    verifier = createResourceVerifier({ issuer: issuer.issuer, audience })
  })
  afterEach(() => issuer.close())

  it('fetches the JWKS once, on first use, and keeps it', async () => {
    assert.equal(issuer.fetches, 0)
    await Promise.all([
      verifier.verifyRequest(bearer(issuer.token())),
      verifier.verifyRequest(bearer(issuer.token())),
    ])
    await verifier.verifyRequest(bearer(issuer.token()))
    assert.equal(issuer.fetches, 1)
  })

  it('picks up a rotation with one refetch when a token names a new kid', async () => {
    const before = issuer.token()
    await verifier.verifyRequest(bearer(before))
    issuer.rotate()
    await verifier.verifyRequest(bearer(issuer.token()))
    assert.equal(issuer.fetches, 2)
    await verifier.verifyRequest(bearer(before))
    assert.equal(issuer.fetches, 2)
  })

  it('refetches for unknown kids at most once in 30 seconds, so made-up kids cannot flood the issuer', async () => {
    await verifier.verifyRequest(bearer(issuer.token()))
    for (let i = 0; i < 5; i++) {
      const error = await refusalOf(
        verifier.verifyRequest(bearer(issuer.token({}, { header: { kid: `made-up-${i}` } }))),
      )
      assertRefusal(error, { status: 401, code: 'invalid_token', scheme: 'Bearer', message: /unknown key/ })
    }
    assert.equal(issuer.fetches, 2)
  })

  it('coalesces concurrent refetches into one request', async () => {
    await verifier.verifyRequest(bearer(issuer.token()))
    issuer.rotate()
    const tokens = Array.from({ length: 10 }, () => issuer.token())
    await Promise.all(tokens.map((token) => verifier.verifyRequest(bearer(token))))
    assert.equal(issuer.fetches, 2)
  })

  it('answers 503 with Retry-After when no keys can be loaded, and retries later', async () => {
    issuer.setStatus(500)
    const error = await refusalOf(verifier.verifyRequest(bearer(issuer.token())))
    assert.ok(error instanceof Error && 'code' in error)
    const refusal = error as unknown as { code: string; status: number; headers: Record<string, string> }
    assert.equal(refusal.code, 'temporarily_unavailable')
    assert.equal(refusal.status, 503)
    assert.equal(refusal.headers['retry-after'], '5')
    assert.equal(refusal.headers['www-authenticate'], undefined)
    // Within the back-off the issuer is not asked again.
    await refusalOf(verifier.verifyRequest(bearer(issuer.token())))
    assert.equal(issuer.fetches, 1)
  })

  it('keeps the keys it has when a refetch fails', async () => {
    await verifier.verifyRequest(bearer(issuer.token()))
    issuer.setStatus(500)
    const error = await refusalOf(
      verifier.verifyRequest(bearer(issuer.token({}, { header: { kid: 'new' } }))),
    )
    assertRefusal(error, { status: 401, code: 'invalid_token', scheme: 'Bearer', message: /unknown key/ })
    await verifier.verifyRequest(bearer(issuer.token()))
    assert.equal(issuer.fetches, 2)
  })

  it('uses jwksUri when given', async () => {
    const other = createResourceVerifier({
      issuer: 'https://id.example.com/t/demo',
      audience,
      jwksUri: issuer.jwksUri,
    })
    const error = await refusalOf(other.verifyRequest(bearer(issuer.token())))
    // The keys came from jwksUri (the signature checked out); only the issuer differs.
    assertRefusal(error, { status: 401, code: 'invalid_token', scheme: 'Bearer', message: /another issuer/ })
    assert.equal(issuer.fetches, 1)
  })
})
