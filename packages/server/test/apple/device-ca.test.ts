import assert from 'node:assert/strict'
import { randomBytes, X509Certificate } from 'node:crypto'
import { describe, it } from 'node:test'
import { createSecureContext } from 'node:tls'
import { DeviceCertificateAuthority } from '../../src/apple/device-ca.ts'
import { SecretBox } from '../../src/crypto/secret-box.ts'

const now = Math.floor(Date.now() / 1000)

describe('the device CA', () => {
  for (const keyType of ['rsa', 'ec'] as const) {
    it(`(${keyType}) is a self-signed CA whose private key is sealed`, async () => {
      const authority = new DeviceCertificateAuthority({ secretBox: new SecretBox(randomBytes(32)) })
      const ca = await authority.create('acme', keyType, { organization: 'Acme Corp', now })
      const certificate = new X509Certificate(ca.certificatePEM)
      assert.equal(certificate.ca, true)
      assert.equal(certificate.verify(certificate.publicKey), true)
      assert.equal(certificate.subject, 'O=Acme Corp\nCN=Onramp device CA (acme)')
      assert.equal(certificate.publicKey.asymmetricKeyType, keyType)
      assert.doesNotMatch(ca.sealedPrivateKey, /PRIVATE KEY/)
    })

    it(`(${keyType}) issues a PKCS #12 identity that OpenSSL opens with its password only`, async () => {
      const authority = new DeviceCertificateAuthority({ secretBox: new SecretBox(randomBytes(32)) })
      const ca = await authority.create('acme', keyType, { now })
      const identity = await authority.issueIdentity('acme', ca, { commonName: 'acme:enrollment-1', now })
      // OpenSSL checks the MAC, decrypts the key and matches it to the certificate.
      createSecureContext({ pfx: identity.pkcs12, passphrase: identity.password })
      assert.throws(() => createSecureContext({ pfx: identity.pkcs12, passphrase: `${identity.password}x` }))
      assert.match(identity.serial, /^[0-9a-f]{32}$/)
    })
  }

  it('cannot open a CA sealed for another tenant or with another master key', async () => {
    const box = new SecretBox(randomBytes(32))
    const ca = await new DeviceCertificateAuthority({ secretBox: box }).create('acme', 'ec', { now })
    await assert.rejects(
      new DeviceCertificateAuthority({ secretBox: box }).issueIdentity('other', ca, { commonName: 'x', now }),
    )
    await assert.rejects(
      new DeviceCertificateAuthority({ secretBox: new SecretBox(randomBytes(32)) }).issueIdentity(
        'acme',
        ca,
        {
          commonName: 'x',
          now,
        },
      ),
    )
  })
})
