import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import { base64url, calculateJwkThumbprint, compactDecrypt, EmbeddedJWK, type JWK, jwtVerify } from 'jose'
import {
  createResponseKey,
  decryptPayload,
  encryptPayload,
  selectEncryptionKey,
} from '../../src/crypto/jwe.ts'
import { deriveBiometricKey, derivePasswordKey } from '../../src/crypto/key-derivation.ts'
import { openJSON, sealJSON } from '../../src/crypto/secret-box.ts'
import { calculateJKT, createDPoPProof, MinimumPBKDF2Iterations, SoftwareKeyStore } from '../../src/index.ts'

describe('password key derivation (PBKDF2-SHA-256)', () => {
  const salt = crypto.getRandomValues(new Uint8Array(16))
  const parameters = { salt, iterations: MinimumPBKDF2Iterations }

  it('derives the same non-extractable AES-GCM key from the same password and salt', async () => {
    const key = await derivePasswordKey('correct horse', parameters)
    assert.equal(key.extractable, false)
    assert.deepEqual(key.algorithm, { name: 'AES-GCM', length: 256 })
    const box = await sealJSON(key, { secret: 42 }, 'context')
    const again = await derivePasswordKey('correct horse', parameters)
    assert.deepEqual(await openJSON(again, box, 'context'), { secret: 42 })
    const wrong = await derivePasswordKey('correct horsf', parameters)
    assert.equal(await openJSON(wrong, box, 'context'), undefined)
    const otherSalt = await derivePasswordKey('correct horse', { ...parameters, salt: new Uint8Array(16) })
    assert.equal(await openJSON(otherSalt, box, 'context'), undefined)
  })

  it('matches the same password in any Unicode normal form', async () => {
    const composed = await derivePasswordKey('caf\u00e9', parameters)
    const decomposed = await derivePasswordKey('cafe\u0301', parameters)
    const box = await sealJSON(composed, 'x', 'c')
    assert.equal(await openJSON(decomposed, box, 'c'), 'x')
  })

  it('refuses fewer than 600,000 iterations and short salts', async () => {
    await assert.rejects(derivePasswordKey('pw', { salt, iterations: 599_999 }), RangeError)
    await assert.rejects(
      derivePasswordKey('pw', { salt: new Uint8Array(8), iterations: 600_000 }),
      RangeError,
    )
  })
})

describe('biometric key derivation (HKDF over 32 bytes of key material)', () => {
  it('derives one key per key material and salt, and refuses other lengths', async () => {
    const material = crypto.getRandomValues(new Uint8Array(32))
    const salt = crypto.getRandomValues(new Uint8Array(32))
    const box = await sealJSON(await deriveBiometricKey(material, salt), [1, 2], 'c')
    assert.deepEqual(await openJSON(await deriveBiometricKey(material, salt), box, 'c'), [1, 2])
    const otherMaterial = crypto.getRandomValues(new Uint8Array(32))
    assert.equal(await openJSON(await deriveBiometricKey(otherMaterial, salt), box, 'c'), undefined)
    await assert.rejects(deriveBiometricKey(new Uint8Array(16), salt), RangeError)
  })
})

describe('secret box', () => {
  it('opens only in the context it was sealed in, and only unaltered', async () => {
    const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
      'encrypt',
      'decrypt',
    ])
    const box = await sealJSON(key, { refreshToken: 'rt' }, 'tenant a')
    assert.equal(await openJSON(key, box, 'tenant b'), undefined)
    const bytes = base64url.decode(box.ciphertext)
    bytes[0]! ^= 1
    assert.equal(await openJSON(key, { ...box, ciphertext: base64url.encode(bytes) }, 'tenant a'), undefined)
    assert.notEqual((await sealJSON(key, 1, 'c')).iv, (await sealJSON(key, 1, 'c')).iv)
  })
})

describe('DPoP proofs', () => {
  it('are ES256 JWTs with the public key, htm, htu without query and fragment, ath and nonce', async () => {
    const { keyPair } = await new SoftwareKeyStore().createKey()
    const proof = await createDPoPProof(keyPair, {
      method: 'post',
      url: 'https://api.example:8443/orders/1?expand=all#top',
      accessToken: 'token-value',
      nonce: 'n-1',
    })
    const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt' })
    assert.equal(protectedHeader.alg, 'ES256')
    assert.deepEqual(Object.keys(protectedHeader.jwk!).sort(), ['crv', 'kty', 'x', 'y'])
    assert.equal(payload.htm, 'POST')
    assert.equal(payload.htu, 'https://api.example:8443/orders/1')
    assert.equal(payload.ath, createHash('sha256').update('token-value').digest('base64url'))
    assert.equal(payload.nonce, 'n-1')
    assert.ok(Math.abs((payload.iat as number) - Date.now() / 1000) < 5)
    assert.equal(typeof payload.jti, 'string')
    const second = await jwtVerify(
      await createDPoPProof(keyPair, { method: 'GET', url: 'https://a.example/' }),
      EmbeddedJWK,
    )
    assert.notEqual(second.payload.jti, payload.jti)
    assert.equal(second.payload.ath, undefined)
    assert.equal(
      await calculateJKT(keyPair.publicKey),
      await calculateJwkThumbprint(protectedHeader.jwk as JWK),
    )
  })

  it('are signed by a device key whose private half cannot be exported', async () => {
    const store = new SoftwareKeyStore()
    const { keyPair, record } = await store.createKey()
    assert.equal(keyPair.privateKey.extractable, false)
    const reopened = await store.openKey(record)
    assert.ok(reopened)
    assert.equal(await calculateJKT(reopened.publicKey), await calculateJKT(keyPair.publicKey))
    assert.equal(await store.openKey({ kty: 'RSA' }), undefined)
  })
})

describe('payload encryption (JWE)', () => {
  it('encrypts to the resource key with kid and cty, and reads responses to a per-request key', async () => {
    const resource = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, [
      'deriveBits',
    ])
    const publicJWK = await crypto.subtle.exportKey('jwk', resource.publicKey)
    const jwks = {
      keys: [
        { ...publicJWK, kid: 'sig', use: 'sig', alg: 'ES256' },
        { ...publicJWK, kid: 'k1', use: 'enc', alg: 'ECDH-ES+A256KW' },
      ],
    }
    const key = selectEncryptionKey(jwks)
    assert.equal(key?.kid, 'k1')
    assert.equal(selectEncryptionKey({ keys: [] }), undefined)
    const jwe = await encryptPayload(new TextEncoder().encode('{"a":1}'), key!, 'application/json')
    const { plaintext, protectedHeader } = await compactDecrypt(jwe, resource.privateKey)
    assert.equal(new TextDecoder().decode(plaintext), '{"a":1}')
    assert.deepEqual(
      {
        alg: protectedHeader.alg,
        enc: protectedHeader.enc,
        kid: protectedHeader.kid,
        cty: protectedHeader.cty,
      },
      { alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: 'k1', cty: 'application/json' },
    )

    const responseKey = await createResponseKey()
    const sentJWK = JSON.parse(new TextDecoder().decode(base64url.decode(responseKey.headerValue))) as JWK
    assert.deepEqual(Object.keys(sentJWK).sort(), ['crv', 'kty', 'x', 'y'])
    assert.equal(responseKey.thumbprint, await calculateJwkThumbprint(sentJWK))
    const reply = await encryptPayload(
      new TextEncoder().encode('ok'),
      { kid: 'r', jwk: sentJWK },
      'text/plain',
    )
    const decrypted = await decryptPayload(reply, responseKey.privateKey)
    assert.equal(new TextDecoder().decode(decrypted.plaintext), 'ok')
    assert.equal(decrypted.contentType, 'text/plain')
    const otherKey = await createResponseKey()
    await assert.rejects(decryptPayload(reply, otherKey.privateKey))
  })
})
