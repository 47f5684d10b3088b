import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { SecretBox } from '../../src/crypto/secret-box.ts'

describe('SecretBox', () => {
  it('round-trips and binds the context', () => {
    const box = new SecretBox(randomBytes(32))
    const sealed = box.seal('private key', 'signing-key:a')
    assert.equal(box.open(sealed, 'signing-key:a'), 'private key')
    assert.throws(() => box.open(sealed, 'signing-key:b'))
    assert.throws(() => new SecretBox(randomBytes(32)).open(sealed, 'signing-key:a'))
  })
})
