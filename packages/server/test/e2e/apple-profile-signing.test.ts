import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { parseSignedData } from '../../src/apple/cms.ts'
import { timeOrderedId } from '../../src/crypto/secrets.ts'
import type { DeviceEmulator, DeviceResponse } from '../apple/device-emulator.ts'
import { admin, appleTenant, personalIPhone, signInDevice } from '../apple/support.ts'
import { issue, privateKeyPEM, profileSigningPKI } from '../apple/test-pki.ts'
import { startTestServer, type TestServer } from '../support/server.ts'

describe('Apple enrollment profiles signed with the tenant’s certificate', () => {
  const run = timeOrderedId().slice(-6)
  const tenant = `apple-signing-${run}`
  const domain = `initrode-${run}.example`
  const topic = `com.apple.mgmt.External.${randomUUID()}`
  const email = `samir@${domain}`
  const folder = mkdtempSync(join(tmpdir(), 'onramp-profile-signing-'))
  let pki: ReturnType<typeof profileSigningPKI>
  let server: TestServer

  const setSigning = (body: Record<string, unknown>, tenantId = tenant) =>
    admin(server, 'PUT', `/tenants/${tenantId}/apple/profile-signing-certificate`, body)

  /** A new device's enrollment up to the profile: the answer as the device receives it. */
  async function profileAnswer(): Promise<{ device: DeviceEmulator; answer: DeviceResponse }> {
    const device = personalIPhone(email)
    const { server: found } = await device.discover(server.url)
    assert.ok(found)
    assert.equal((await device.postEnrollment(found.BaseURL)).status, 401)
    await signInDevice(server, tenant, email, device)
    return { device, answer: await device.postEnrollment(found.BaseURL, { token: device.accessToken }) }
  }

  /** `openssl cms -verify` of a signed profile against `root`: the content it vouches for. */
  function opensslVerify(der: Buffer, root: string): Buffer {
    const path = join(folder, `${randomUUID()}.der`)
    writeFileSync(path, der)
    return execFileSync(
      'openssl',
      ['cms', '-verify', '-inform', 'DER', '-in', path, '-CAfile', root, '-purpose', 'any'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
  }

  before(async () => {
    pki = profileSigningPKI(folder)
    server = await startTestServer()
    await appleTenant(server, tenant, { domain, topic })
  })

  after(async () => {
    await server?.close()
    rmSync(folder, { recursive: true, force: true })
  })

  it('issues unsigned profiles while no signing certificate is set', async () => {
    const { device, answer } = await profileAnswer()
    device.acceptProfile(answer)
    assert.equal(device.profileSigned, false)
    assert.match(answer.body.toString(), /^<\?xml/)
  })

  it('refuses certificates it could not sign with, with nothing stored', async () => {
    const { signer, intermediate, root, ecSigner, noSignature, p521 } = pki
    const expired = await issue('Expired Signer', undefined, { ca: false, expired: true })
    const refusals: [string, Record<string, unknown>, RegExp][] = [
      ['not PEM', { certificate: 'hello', private_key: signer.privateKey }, /PEM/],
      ['a key that is not PEM', { certificate: signer.certificate, private_key: 'hello' }, /private_key/],
      [
        'another certificate’s key',
        { certificate: signer.certificate, private_key: ecSigner.privateKey },
        /does not belong/,
      ],
      [
        'the chain out of order',
        { certificate: intermediate.certificate + signer.certificate, private_key: signer.privateKey },
        /does not belong/,
      ],
      [
        'a chain that skips the intermediate',
        { certificate: signer.certificate + root.certificate, private_key: signer.privateKey },
        /out of order/,
      ],
      [
        'a key usage without signatures',
        { certificate: noSignature.certificate, private_key: noSignature.privateKey },
        /key usage/,
      ],
      ['a P-521 key', { certificate: p521.certificate, private_key: p521.privateKey }, /P-256 or P-384/],
      [
        'an expired certificate',
        { certificate: expired.pem, private_key: await privateKeyPEM(expired) },
        /expired/,
      ],
      ['no key', { certificate: signer.certificate }, /private_key/],
    ]
    for (const [what, body, message] of refusals) {
      const response = await setSigning(body)
      assert.equal(response.status, 400, `${what}: ${JSON.stringify(response.body)}`)
      assert.match(response.body.error_description ?? response.body.message ?? '', message, what)
    }
    const { body } = await admin(server, 'GET', `/tenants/${tenant}/apple`)
    assert.equal(body.profile_signing_certificate, undefined)
    const good = { certificate: signer.certificate, private_key: signer.privateKey }
    assert.equal((await setSigning(good, `no-such-tenant-${run}`)).status, 404)
    await server.services.tenants.create({ id: `no-apple-${run}` })
    assert.equal((await setSigning(good, `no-apple-${run}`)).status, 404)
  })

  it('signs profiles with the certificate and its chain; OpenSSL verifies them to the root', async () => {
    const { signer, intermediate, root } = pki
    const set = await setSigning({
      certificate: signer.certificate + intermediate.certificate,
      private_key: signer.privateKey,
    })
    assert.equal(set.status, 200, JSON.stringify(set.body))
    const view = set.body.profile_signing_certificate
    assert.match(view.subject, /CN=signer/)
    assert.match(view.issuer, /CN=intermediate/)
    assert.match(view.serial_number, /^[0-9a-f]+$/)
    assert.ok(view.not_after > Date.now() / 1000)
    assert.equal(view.chain_length, 2)
    assert.doesNotMatch(JSON.stringify(set.body), /PRIVATE KEY/)
    const stored = await server.services.store.appleConfigs.get(tenant)
    assert.doesNotMatch(stored!.profileSigning!.sealedPrivateKey, /PRIVATE KEY/, 'the key is sealed at rest')

    const { device, answer } = await profileAnswer()
    assert.equal(answer.body[0], 0x30, 'a DER CMS message')
    const profile = device.acceptProfile(answer)
    assert.equal(device.profileSigned, true)
    assert.equal(profile.PayloadType, 'Configuration')
    assert.equal(device.mdmPayload().Topic, topic)
    const content = opensslVerify(answer.body, root.certificatePath)
    assert.match(content.toString(), /<key>PayloadType<\/key>\s*<string>Configuration<\/string>/)
    assert.equal(parseSignedData(answer.body).certificates?.length, 2, 'the signer and its intermediate')
    assert.throws(() => opensslVerify(answer.body, pki.ecSigner.certificatePath), 'another root')
    const tampered = Buffer.from(answer.body)
    const at = tampered.indexOf('Configuration')
    tampered[at] = 'c'.charCodeAt(0)
    assert.throws(() => opensslVerify(tampered, root.certificatePath), 'a changed byte of the profile')
    // The device goes on as with an unsigned profile: its check-in is signed with the identity.
    assert.equal((await device.checkIn({ MessageType: 'Authenticate', Topic: topic })).status, 200)
  })

  it('signs with an EC P-256 key, and keeps the certificate when the settings change', async () => {
    const { ecSigner, root } = pki
    const set = await setSigning({ certificate: ecSigner.certificate, private_key: ecSigner.privateKey })
    assert.equal(set.status, 200, JSON.stringify(set.body))
    assert.equal(set.body.profile_signing_certificate.chain_length, 1)
    const changed = await admin(server, 'PUT', `/tenants/${tenant}/apple`, {
      managed_domains: [domain],
      apns_topic: topic,
      organization: 'Initrode',
      identity: { type: 'pkcs12', key_type: 'ec' },
    })
    assert.equal(changed.status, 200, JSON.stringify(changed.body))
    assert.match(changed.body.profile_signing_certificate.subject, /CN=ec-signer/)
    const { device, answer } = await profileAnswer()
    device.acceptProfile(answer)
    assert.equal(device.profileSigned, true)
    assert.match(opensslVerify(answer.body, root.certificatePath).toString(), /Initrode device management/)
  })

  it('issues unsigned profiles again once the certificate is removed', async () => {
    const removed = await admin(server, 'DELETE', `/tenants/${tenant}/apple/profile-signing-certificate`)
    assert.equal(removed.status, 200, JSON.stringify(removed.body))
    assert.equal('profile_signing_certificate' in removed.body, false)
    const { device, answer } = await profileAnswer()
    device.acceptProfile(answer)
    assert.equal(device.profileSigned, false)
  })
})
