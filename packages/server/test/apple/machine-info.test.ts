import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { describe, it } from 'node:test'
import * as pkijs from 'pkijs'
import { readSignedMachineInfo } from '../../src/apple/machine-info.ts'
import { readAppleFixture } from './support.ts'
import { machineInfoPlist, signedMessage, testDevicePKI } from './test-pki.ts'

/** The certificates the real device put in its message: device, "Apple iPhone Device CA", "Apple iPhone Certification Authority". */
function fixtureCertificates(): X509Certificate[] {
  const signedData = new pkijs.SignedData({
    schema: pkijs.ContentInfo.fromBER(new Uint8Array(readAppleFixture())).content,
  })
  return (signedData.certificates ?? []).map(
    (c) => new X509Certificate(Buffer.from((c as pkijs.Certificate).toSchema().toBER(false))),
  )
}

describe('reading the signed MachineInfo', () => {
  it('verifies the real device’s body, although its certificate has expired', async () => {
    const [device] = fixtureCertificates()
    assert.ok(new Date(device!.validTo) < new Date(), 'the fixture certificate should have expired')
    assert.deepEqual(await readSignedMachineInfo(readAppleFixture(), { trustAnchors: [] }), {
      udid: undefined,
      serialNumber: undefined,
      product: 'iPhone12,1',
      osBuild: '19H12',
      osVersion: undefined,
      language: 'ja-JP',
    })
  })

  it('checks the chain when anchors are configured: Apple’s CA is trusted, another is not', async () => {
    const [, , appleIPhoneCA] = fixtureCertificates()
    assert.match(appleIPhoneCA!.subject, /Apple iPhone Certification Authority/)
    const info = await readSignedMachineInfo(readAppleFixture(), { trustAnchors: [appleIPhoneCA!] })
    assert.equal(info.product, 'iPhone12,1')
    const { root } = await testDevicePKI()
    await assert.rejects(
      readSignedMachineInfo(readAppleFixture(), { trustAnchors: [new X509Certificate(root.pem)] }),
      { reason: 'untrusted' },
    )
  })

  it('refuses the body when one byte of the signed content changes', async () => {
    const body = readAppleFixture()
    const at = body.indexOf(Buffer.from('iPhone12,1'))
    body[at + 6] = '3'.charCodeAt(0)
    await assert.rejects(readSignedMachineInfo(body, { trustAnchors: [] }), { reason: 'signature' })
  })

  it('refuses a signature over other content, and one by a key that is not the certificate’s', async () => {
    const pki = await testDevicePKI()
    const good = await signedMessage(machineInfoPlist({ PRODUCT: 'iPad8,1', VERSION: '21A5' }), pki.device, [
      pki.device,
      pki.intermediate,
    ])
    const info = await readSignedMachineInfo(good, { trustAnchors: [new X509Certificate(pki.root.pem)] })
    assert.equal(info.product, 'iPad8,1')
    const impostor = await signedMessage(
      machineInfoPlist({ PRODUCT: 'iPad8,1', VERSION: '21A5' }),
      { ...pki.device, privateKey: pki.intermediate.privateKey },
      [pki.device],
    )
    await assert.rejects(readSignedMachineInfo(impostor, { trustAnchors: [] }), { reason: 'signature' })
  })

  it('accepts an expired device certificate in a trusted chain', async () => {
    const pki = await testDevicePKI({ expired: true })
    const body = await signedMessage(
      machineInfoPlist({
        UDID: '00008030-000A1C2E0E84802E',
        SERIAL: 'F2LXQ0ABCDEF',
        PRODUCT: 'iPhone12,1',
        VERSION: '23A341',
        LANGUAGE: 'en',
      }),
      pki.device,
      [pki.device, pki.intermediate],
    )
    const info = await readSignedMachineInfo(body, { trustAnchors: [new X509Certificate(pki.root.pem)] })
    assert.deepEqual([info.udid, info.serialNumber], ['00008030-000A1C2E0E84802E', 'F2LXQ0ABCDEF'])
  })

  it('refuses unsigned messages, bare property lists and garbage', async () => {
    const unsigned = await signedMessage(
      machineInfoPlist({ PRODUCT: 'iPhone12,1', VERSION: '19H12' }),
      undefined,
    )
    await assert.rejects(readSignedMachineInfo(unsigned, { trustAnchors: [] }), { reason: 'unsigned' })
    await assert.rejects(
      readSignedMachineInfo(machineInfoPlist({ PRODUCT: 'iPhone12,1', VERSION: '19H12' }), {
        trustAnchors: [],
      }),
      { reason: 'malformed' },
    )
    await assert.rejects(readSignedMachineInfo(Buffer.from([0x30, 0x03, 0x02]), { trustAnchors: [] }), {
      reason: 'malformed',
    })
    await assert.rejects(readSignedMachineInfo(readAppleFixture().subarray(0, 400), { trustAnchors: [] }), {
      reason: 'malformed',
    })
  })

  it('refuses signed content that is not a MachineInfo property list', async () => {
    const pki = await testDevicePKI()
    for (const content of [
      Buffer.from('<?xml version="1.0"?><plist version="1.0"><dict><key>PRODUCT</key></plist>'),
      Buffer.from('{"PRODUCT":"iPhone12,1"}'),
      Buffer.from('<?xml version="1.0"?><plist version="1.0"><array><string>x</string></array></plist>'),
      machineInfoPlist({ LANGUAGE: 'en' }),
      Buffer.from(
        '<?xml version="1.0"?><plist version="1.0"><dict><key>PRODUCT</key><integer>1</integer><key>VERSION</key><string>1</string></dict></plist>',
      ),
    ]) {
      const body = await signedMessage(content, pki.device, [pki.device])
      await assert.rejects(
        readSignedMachineInfo(body, { trustAnchors: [] }),
        { reason: 'plist' },
        content.toString(),
      )
    }
  })
})
