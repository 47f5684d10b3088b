import assert from 'node:assert/strict'
import { generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto'
import { describe, it } from 'node:test'
import {
  DPoPHeaderCache,
  DPoPHeaderError,
  decodeJWS,
  derToJOSE,
  importPublicJWK,
  JWSFormatError,
  joseToDER,
  jwkThumbprint,
  keyMatchesAlgorithm,
  signJWS,
  verifySignature,
  verifySignatureInThreadPool,
} from '../src/index.ts'

describe('ECDSA signature encodings', () => {
  for (const [curve, size, digest] of [
    ['P-256', 32, 'sha256'],
    ['P-384', 48, 'sha384'],
    ['P-521', 66, 'sha512'],
  ] as const) {
    it(`converts ${curve} DER to JOSE exactly as node:crypto's ieee-p1363 does, and back`, () => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve })
      for (let i = 0; i < 200; i++) {
        const data = randomBytes(32)
        const der = sign(digest, data, privateKey)
        const jose = derToJOSE(der, size)
        assert.equal(jose.length, size * 2)
        assert.ok(verify(digest, data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, jose))
        const back = joseToDER(jose, size)
        assert.ok(back)
        assert.ok(verify(digest, data, publicKey, back))
      }
    })
  }

  it('rejects JOSE signatures of the wrong length', () => {
    assert.equal(joseToDER(Buffer.alloc(63), 32), undefined)
  })
})

describe('JWS', () => {
  for (const [alg, keyPair] of [
    ['ES256', () => generateKeyPairSync('ec', { namedCurve: 'P-256' })],
    ['Ed25519', () => generateKeyPairSync('ed25519')],
  ] as const) {
    it(`signs ${alg} and verifies, and refuses a tampered payload`, async () => {
      const { privateKey, publicKey } = keyPair()
      const input = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0'
      const signature = await signJWS(alg, privateKey, input)
      assert.equal(signature.length, 64)
      assert.ok(verifySignature(alg, publicKey, input, signature))
      assert.equal(verifySignature(alg, publicKey, `${input}x`, signature), false)
      assert.ok(await verifySignatureInThreadPool(alg, publicKey, input, signature))
      assert.equal(await verifySignatureInThreadPool(alg, publicKey, `${input}x`, signature), false)
    })
  }

  it('verifies with a key of the wrong type as false, not as an exception', async () => {
    const { publicKey } = generateKeyPairSync('ed25519')
    assert.equal(verifySignature('ES256', publicKey, 'a.b', Buffer.alloc(64)), false)
    assert.equal(await verifySignatureInThreadPool('ES256', publicKey, 'a.b', Buffer.alloc(64)), false)
  })

  it('decodes compact JWS and refuses malformed ones', () => {
    const header = Buffer.from('{"alg":"ES256"}').toString('base64url')
    const payload = Buffer.from('{"a":1}').toString('base64url')
    const decoded = decodeJWS(`${header}.${payload}.c2ln`)
    assert.deepEqual(decoded.header, { alg: 'ES256' })
    assert.deepEqual(decoded.payload, { a: 1 })
    for (const bad of [
      '',
      'a.b',
      'a.b.c.d',
      `${header}.${payload}.`,
      `${header}..c2ln`,
      `${header}.${payload}.c2ln!`,
      'e30.W10.c2ln',
      'bm9wZQ.e30.c2ln',
    ]) {
      assert.throws(() => decodeJWS(bad), JWSFormatError, bad)
    }
  })

  it('matches keys to algorithms (RFC 7518 §3.4)', () => {
    assert.ok(keyMatchesAlgorithm('ES256', { kty: 'EC', crv: 'P-256' }))
    assert.equal(keyMatchesAlgorithm('ES256', { kty: 'EC', crv: 'P-384' }), false)
    assert.equal(keyMatchesAlgorithm('RS256', { kty: 'EC', crv: 'P-256' }), false)
    assert.ok(keyMatchesAlgorithm('EdDSA', { kty: 'OKP', crv: 'Ed25519' }))
  })
})

describe('JWK thumbprint', () => {
  it('computes the RFC 7638 §3.1 example', () => {
    const jwk = {
      kty: 'RSA',
      n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
      e: 'AQAB',
      alg: 'RS256',
      kid: '2011-04-29',
    }
    assert.equal(jwkThumbprint(jwk), 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs')
  })
})

describe('public JWK import', () => {
  for (const [type, options] of [
    ['ec', { namedCurve: 'P-256' }],
    ['ec', { namedCurve: 'P-384' }],
    ['ec', { namedCurve: 'P-521' }],
    ['ed25519', {}],
    ['rsa', { modulusLength: 2048 }],
  ] as const) {
    it(`imports ${type} ${'namedCurve' in options ? options.namedCurve : ''} keys that verify like the original`, async () => {
      const { publicKey } = generateKeyPairSync(type as 'ec', options as { namedCurve: string })
      const jwk = publicKey.export({ format: 'jwk' }) as Record<string, unknown>
      const imported = importPublicJWK(jwk)
      assert.ok(imported.equals(publicKey))
    })
  }

  it('refuses coordinates of the wrong size or points off the curve', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const jwk = publicKey.export({ format: 'jwk' }) as Record<string, string>
    assert.throws(() => importPublicJWK({ ...jwk, x: jwk.x!.slice(2) }))
    assert.throws(() => importPublicJWK({ ...jwk, y: Buffer.alloc(32, 1).toString('base64url') }))
    assert.throws(() => importPublicJWK({ ...jwk, crv: 'P-384' }))
  })
})

describe('DPoP header cache', () => {
  const header = (typ = 'dpop+jwt'): string => {
    const { kty, crv, x, y } = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
      format: 'jwk',
    })
    return Buffer.from(JSON.stringify({ typ, alg: 'ES256', jwk: { kty, crv, x, y } })).toString('base64url')
  }

  it('checks a header once and keeps the result by its text, dropping the oldest past its size', () => {
    const cache = new DPoPHeaderCache(2)
    const [first, second, third] = [header(), header(), header()]
    const kept = cache.get(first)
    assert.equal(kept.alg, 'ES256')
    assert.equal(cache.get(first), kept)
    cache.get(second)
    cache.get(third)
    assert.notEqual(cache.get(first), kept, 'the oldest was dropped and is checked again')
  })

  it('refuses a header that fails RFC 9449 §4.3 every time, keeping nothing', () => {
    const cache = new DPoPHeaderCache()
    const wrong = header('JWT')
    for (let i = 0; i < 2; i++) assert.throws(() => cache.get(wrong), DPoPHeaderError)
  })
})
