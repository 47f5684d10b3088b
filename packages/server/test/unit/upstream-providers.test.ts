import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { SecretBox } from '../../src/crypto/secret-box.ts'
import { AppError } from '../../src/errors/app-error.ts'
import { clientSecretContext, prepareUpstreamProviders } from '../../src/login/upstream-providers.ts'

const secretBox = new SecretBox(randomBytes(32))
const corp = { name: 'corp', issuer: 'https://idp.example', clientId: 'onramp' }

describe('upstream provider settings', () => {
  it('seals the client secret to the tenant and the name, and always asks for openid', () => {
    const [provider] = prepareUpstreamProviders(
      'demo',
      [{ ...corp, clientSecret: 's3cret', scopes: ['email'] }],
      {
        previous: [],
        secretBox,
      },
    )
    assert.deepEqual(provider?.scopes, ['openid', 'email'])
    assert.ok(provider?.sealedClientSecret && !provider.sealedClientSecret.includes('s3cret'))
    assert.equal(secretBox.open(provider.sealedClientSecret, clientSecretContext('demo', 'corp')), 's3cret')
    assert.throws(() => secretBox.open(provider.sealedClientSecret!, clientSecretContext('other', 'corp')))
  })

  it('keeps the stored secret when the same provider comes back without one, not when its client changes', () => {
    const previous = prepareUpstreamProviders('demo', [{ ...corp, clientSecret: 's3cret' }], {
      previous: [],
      secretBox,
    })
    const [kept] = prepareUpstreamProviders('demo', [corp], { previous, secretBox })
    assert.equal(kept?.sealedClientSecret, previous[0]?.sealedClientSecret)
    const [changed] = prepareUpstreamProviders('demo', [{ ...corp, clientId: 'other' }], {
      previous,
      secretBox,
    })
    assert.equal(changed?.sealedClientSecret, undefined)
  })

  it('refuses bad names, duplicates, and issuers that are not https (or http on loopback)', () => {
    const bad = [
      [{ ...corp, name: 'Corp' }],
      [corp, corp],
      [{ ...corp, issuer: 'http://idp.example' }],
      [{ ...corp, issuer: 'https://idp.example?x=1' }],
      [{ ...corp, scopes: ['bad scope'] }],
    ]
    for (const inputs of bad)
      assert.throws(() => prepareUpstreamProviders('demo', inputs, { previous: [], secretBox }), AppError)
    assert.doesNotThrow(() =>
      prepareUpstreamProviders('demo', [{ ...corp, issuer: 'http://127.0.0.1:4000' }], {
        previous: [],
        secretBox,
      }),
    )
  })
})
