import assert from 'node:assert/strict'
import { createHmac, randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { GrantType } from '@onramp/protocol'
import * as oauth from 'oauth4webapi'
import { createProof, createUnsignedJWT, type ProofClaims } from '../support/dpop-proof.ts'
import { assertOAuthError, postForm, type RawResponse, sendRaw } from '../support/http.ts'
import {
  createDeviceKey,
  type DeviceKey,
  decodeJWT,
  demo,
  demoClient,
  discover,
  enroll,
  enrollRequest,
  refresh,
  rejectsWithOAuthError,
  userinfo,
} from '../support/oauth-client.ts'
import { startTestServer, type TestServer } from '../support/server.ts'

const now = (): number => Math.floor(Date.now() / 1000)

describe('DPoP proofs at the token endpoint', () => {
  let server: TestServer
  let tokenURL: string
  let key: DeviceKey

  before(async () => {
    server = await startTestServer()
    tokenURL = `${server.issuer()}/token`
    key = await createDeviceKey()
  })
  after(() => server?.close())

  const enrollment = { grant_type: GrantType.anonymous, client_id: demo.client, authentication_mode: 'no' }

  function enrollWith(proof: string): Promise<RawResponse> {
    return postForm(tokenURL, enrollment, { dpop: proof })
  }

  function proof(
    claims: Partial<ProofClaims> = {},
    options?: Parameters<typeof createProof>[2],
  ): Promise<string> {
    return createProof(key.keyPair, { htm: 'POST', htu: tokenURL, ...claims }, options)
  }

  function assertRefused(response: RawResponse, reason?: RegExp): void {
    assertOAuthError(response, 400, 'invalid_dpop_proof')
    if (reason)
      assert.match(String((response.body as { error_description: string }).error_description), reason)
  }

  it('accepts a well-formed proof and binds the token to its key (control case)', async () => {
    const response = await enrollWith(await proof())
    assert.equal(response.status, 200, JSON.stringify(response.body))
    assert.deepEqual(decodeJWT((response.body as { access_token: string }).access_token).payload.cnf, {
      jkt: key.jkt,
    })
  })

  it('refuses a proof whose typ is not dpop+jwt', async () => {
    assertRefused(await enrollWith(await proof({}, { header: { typ: 'jwt' } })), /typ/)
    assertRefused(await enrollWith(await proof({}, { header: { typ: undefined } })), /typ/)
  })

  it('refuses alg none and symmetric algorithms', async () => {
    const { jwk } = decodeJWT(await proof()).header
    const claims = { htm: 'POST', htu: tokenURL, iat: now(), jti: randomUUID() }
    const unsigned = createUnsignedJWT({ typ: 'dpop+jwt', alg: 'none', jwk }, claims)
    assertRefused(await enrollWith(unsigned))
    assertRefused(await enrollWith(`${unsigned}AA`), /alg/)
    const header = { typ: 'dpop+jwt', alg: 'HS256', jwk: { kty: 'oct', k: 'c2VjcmV0' } }
    const input = createUnsignedJWT(header, claims).slice(0, -1)
    const mac = createHmac('sha256', 'secret').update(input).digest('base64url')
    assertRefused(await enrollWith(`${input}.${mac}`), /alg/)
  })

  it('refuses a private key in the jwk header', async () => {
    const exportable = await oauth.generateKeyPair('ES256', { extractable: true })
    const privateJWK = await crypto.subtle.exportKey('jwk', exportable.privateKey)
    const { kty, crv, x, y, d } = privateJWK
    const signed = await createProof(
      exportable,
      { htm: 'POST', htu: tokenURL },
      { header: { jwk: { kty, crv, x, y, d } } },
    )
    assertRefused(await enrollWith(signed), /public/)
  })

  it('refuses a missing jwk, or one that does not fit alg', async () => {
    assertRefused(await enrollWith(await proof({}, { header: { jwk: undefined } })), /jwk/)
    assertRefused(await enrollWith(await proof({}, { header: { alg: 'ES384' } })), /jwk/)
    assertRefused(
      await enrollWith(await proof({}, { header: { jwk: { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' } } })),
    )
  })

  it('refuses a bad signature', async () => {
    const other = await createDeviceKey()
    const { jwk } = decodeJWT(await proof()).header
    const forged = await createProof(other.keyPair, { htm: 'POST', htu: tokenURL }, { header: { jwk } })
    assertRefused(await enrollWith(forged), /signature/)
    const good = await proof()
    const [head, body, signature] = good.split('.')
    const flipped = Buffer.from(signature!, 'base64url')
    flipped[10]! ^= 0xff
    assertRefused(await enrollWith(`${head}.${body}.${flipped.toString('base64url')}`), /signature/)
    assertRefused(await enrollWith(`${head}.${body}.${'A'.repeat(86)}`), /signature/)
  })

  it('refuses a wrong htm', async () => {
    assertRefused(await enrollWith(await proof({ htm: 'GET' })), /htm/)
    assertRefused(await enrollWith(await proof({ htm: 'post' })), /htm/)
  })

  it('refuses a wrong htu: another endpoint, tenant, host or scheme', async () => {
    for (const htu of [
      `${server.issuer()}/userinfo`,
      `${server.issuer('other')}/token`,
      tokenURL.replace('127.0.0.1', 'localhost'),
      tokenURL.replace('http:', 'https:'),
      'not a url',
    ]) {
      assertRefused(await enrollWith(await proof({ htu })), /htu/)
    }
  })

  it('ignores the query and fragment of htu (RFC 9449 §4.3)', async () => {
    assert.equal((await enrollWith(await proof({ htu: `${tokenURL}?foo=bar` }))).status, 200)
    assert.equal((await enrollWith(await proof({ htu: `${tokenURL}#frag` }))).status, 200)
  })

  it('refuses an iat too old, in the future, or missing', async () => {
    assertRefused(await enrollWith(await proof({ iat: now() - 300 })), /iat/)
    assertRefused(await enrollWith(await proof({ iat: now() + 300 })), /iat/)
    assertRefused(await enrollWith(await proof({ iat: String(now()) as unknown as number })), /iat/)
  })

  it('refuses a missing or oversized jti', async () => {
    assertRefused(await enrollWith(await proof({ jti: '' })), /jti/)
    assertRefused(await enrollWith(await proof({ jti: 'j'.repeat(300) })), /jti/)
  })

  it('refuses a replayed proof, and the replay writes nothing', async () => {
    const once = await proof()
    assert.equal((await enrollWith(once)).status, 200)
    const devices = await server.countRows('devices')
    assertRefused(await enrollWith(once), /used before/)
    assert.equal(await server.countRows('devices'), devices)
  })

  it('refuses malformed proofs', async () => {
    for (const value of ['garbage', 'a.b.c', 'a.b', '..', `${'x'.repeat(6000)}.${'y'.repeat(6000)}.z`]) {
      assertRefused(await enrollWith(value))
    }
    const header = Buffer.from('[1,2]').toString('base64url')
    assertRefused(await enrollWith(`${header}.${header}.AA`))
  })

  it('refuses two DPoP headers', async () => {
    const response = await sendRaw(tokenURL, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: [await proof(), await proof()] },
      body: new URLSearchParams(enrollment).toString(),
    })
    assertRefused(response)
  })

  it('writes nothing for any refused proof', async () => {
    const devices = await server.countRows('devices')
    await enrollWith(await proof({ htm: 'GET' }))
    await enrollWith(await proof({ iat: now() - 3600 }))
    await enrollWith('garbage')
    assert.equal(await server.countRows('devices'), devices)
  })

  for (const alg of ['ES384', 'ES512', 'Ed25519', 'RS256', 'PS256']) {
    it(`accepts ${alg} proofs through the strict client`, async () => {
      const as = await discover(server.issuer())
      assert.ok(as.dpop_signing_alg_values_supported?.includes(alg))
      const other = await createDeviceKey({ alg })
      const tokens = await enroll(as, other)
      assert.deepEqual(decodeJWT(tokens.access_token).payload.cnf, { jkt: other.jkt })
      await refresh(as, other, tokens.refresh_token!)
    })
  }

  it('accepts Ed25519 proofs that name the algorithm EdDSA (RFC 8037)', async () => {
    const ed25519 = (await oauth.generateKeyPair('Ed25519')) as oauth.CryptoKeyPair
    const signed = await createProof(ed25519, { htm: 'POST', htu: tokenURL })
    assert.equal(decodeJWT(signed).header.alg, 'EdDSA')
    const response = await enrollWith(signed)
    assert.equal(response.status, 200, JSON.stringify(response.body))
  })
})

describe('DPoP server nonces', () => {
  let server: TestServer
  let as: oauth.AuthorizationServer

  before(async () => {
    server = await startTestServer()
    await server.services.tenants.create({ id: 'nonce', settings: { dpopNonce: true } })
    await server.services.clients.create('nonce', { clientId: demo.client, type: 'public' })
    as = await discover(server.issuer('nonce'))
  })
  after(() => server?.close())

  it('asks for a nonce first (400 use_dpop_nonce + DPoP-Nonce), and the strict client retries with it', async () => {
    const key = await createDeviceKey()
    let caught: unknown
    try {
      await enroll(as, key)
    } catch (error) {
      caught = error
    }
    assert.ok(oauth.isDPoPNonceError(caught), String(caught))
    const { response } = await rejectsWithOAuthError(Promise.reject(caught), {
      error: 'use_dpop_nonce',
      status: 400,
    })
    assert.ok(response.headers.get('dpop-nonce'))
    assert.equal(await server.countRows('devices', { tenantId: 'nonce' }), 0)

    const tokens = await enroll(as, key)
    assert.equal(tokens.token_type, 'dpop')
    // The nonce stays cached in the handle: the next request goes through at once.
    await refresh(as, key, tokens.refresh_token!)
  })

  it('returns a fresh DPoP-Nonce with every token response', async () => {
    const key = await createDeviceKey()
    await enroll(as, key).catch(() => undefined)
    const response = await enrollRequest(as, key)
    assert.equal(response.status, 200)
    assert.ok(response.headers.get('dpop-nonce'))
  })

  it('refuses a made-up nonce with use_dpop_nonce', async () => {
    const key = await createDeviceKey()
    const url = `${server.issuer('nonce')}/token`
    const response = await postForm(
      url,
      { grant_type: GrantType.anonymous, client_id: demo.client, authentication_mode: 'no' },
      { dpop: await createProof(key.keyPair, { htm: 'POST', htu: url, nonce: 'made-up' }) },
    )
    assertOAuthError(response, 400, 'use_dpop_nonce')
    assert.ok(response.headers.get('dpop-nonce'))
  })

  it('does not accept one tenant’s nonce at another', async () => {
    await server.services.tenants.create({ id: 'nonce-two', settings: { dpopNonce: true } })
    await server.services.clients.create('nonce-two', { clientId: demo.client, type: 'public' })
    const key = await createDeviceKey()
    await enroll(as, key).catch(() => undefined)
    const nonce = (await enrollRequest(as, key)).headers.get('dpop-nonce')!
    const url = `${server.issuer('nonce-two')}/token`
    const response = await postForm(
      url,
      { grant_type: GrantType.anonymous, client_id: demo.client, authentication_mode: 'no' },
      { dpop: await createProof(key.keyPair, { htm: 'POST', htu: url, nonce }) },
    )
    assertOAuthError(response, 400, 'use_dpop_nonce')
  })

  it('asks for a nonce at userinfo with a DPoP challenge, and the strict client retries', async () => {
    const key = await createDeviceKey()
    await enroll(as, key).catch(() => undefined)
    const tokens = await enroll(as, key)
    // A new handle over the same key knows no nonce yet.
    const fresh: DeviceKey = { ...key, dpop: oauth.DPoP(demoClient, key.keyPair) }
    let caught: unknown
    try {
      await userinfo(as, fresh, tokens.access_token)
    } catch (error) {
      caught = error
    }
    assert.ok(oauth.isDPoPNonceError(caught), String(caught))
    const { challenges, response } = await rejectsWithOAuthError(Promise.reject(caught), {
      error: 'use_dpop_nonce',
      status: 401,
    })
    assert.equal(challenges?.[0]?.scheme, 'dpop')
    assert.ok(response.headers.get('dpop-nonce'))
    const claims = await userinfo(as, fresh, tokens.access_token)
    assert.equal(claims.sub, decodeJWT(tokens.access_token).payload.sub)
  })

  it('does not ask for nonces in tenants that do not use them', async () => {
    const demoAS = await discover(server.issuer())
    const response = await enrollRequest(demoAS, await createDeviceKey())
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('dpop-nonce'), null)
  })
})
