import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { profileSigningPKI, pushCertificate } from '../apple/test-pki.ts'
import { onramp, onrampJSON } from './cli-harness.ts'

describe('onramp apple', () => {
  let dataDir: string
  let env: Record<string, string>
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'onramp-cli-apple-'))
    env = { ONRAMP_DATA_DIR: dataDir, ONRAMP_PUBLIC_URL: 'https://mdm.example.com' }
    assert.equal((await onramp(['tenants', 'create', 'acme'], env)).code, 0)
  })
  after(async () => {
    await rm(dataDir, { recursive: true, force: true })
  })

  it('needs the domains and the topic the first time', async () => {
    const result = await onramp(['apple', 'configure', '--tenant', 'acme', '--domains', 'acme.example'], env)
    assert.equal(result.code, 2)
    assert.match(result.stderr, /--domains and --topic are required the first time/)
    const shown = await onramp(['apple', 'show', '--tenant', 'acme'], env)
    assert.equal(shown.code, 1)
    assert.match(shown.stderr, /Apple enrollment is not configured for tenant "acme"/)
  })

  it('configures, then changes only what it is given', async () => {
    const first = await onramp(
      [
        'apple',
        'configure',
        '--tenant',
        'acme',
        '--domains',
        'acme.example,corp.acme.example',
        '--topic',
        'com.apple.mgmt.External.acme',
        '--enrollment-types',
        'Mac=mdm-adde,Watch=none',
      ],
      env,
    )
    assert.equal(first.code, 0, first.stderr)
    assert.match(first.stdout, /^Managed domains: +acme\.example,corp\.acme\.example$/m)
    assert.match(
      first.stdout,
      /^Well-known URL: +https:\/\/mdm\.example\.com\/\.well-known\/com\.apple\.remotemanagement$/m,
    )

    const sso = join(dataDir, 'esso.json')
    await writeFile(sso, JSON.stringify({ iTunesStoreID: 42, Declarations: ['e30='] }))
    const second = await onrampJSON(
      [
        'apple',
        'configure',
        '--tenant',
        'acme',
        '--method',
        'apple-oauth2',
        '--key-type',
        'ec',
        '--enrollment-sso',
        sso,
      ],
      env,
    )
    assert.deepEqual(second.managed_domains, ['acme.example', 'corp.acme.example'])
    assert.equal(second.enrollment_types.Mac, 'mdm-adde')
    assert.equal(second.authentication_method, 'apple-oauth2')
    assert.deepEqual(second.identity, { type: 'pkcs12', key_type: 'ec' })
    assert.deepEqual(second.enrollment_sso, { iTunesStoreID: 42, Declarations: ['e30='] })
    assert.equal(second.endpoints.enrollment_sso, 'https://mdm.example.com/t/acme/apple/enrollment-sso')
    assert.match(second.ca_certificate, /^-----BEGIN CERTIFICATE-----/)

    const shown = await onrampJSON(['apple', 'show', '--tenant', 'acme'], env)
    assert.deepEqual(shown, second)
    const removed = await onrampJSON(
      ['apple', 'configure', '--tenant', 'acme', '--enrollment-sso', 'none'],
      env,
    )
    assert.equal('enrollment_sso' in removed, false)
    assert.equal(removed.ca_certificate, second.ca_certificate, 'the CA stays while its key type does')
  })

  it('reports invalid settings as failed operations', async () => {
    const result = await onramp(
      ['apple', 'configure', '--tenant', 'acme', '--topic', 'com.example.push'],
      env,
    )
    assert.equal(result.code, 1)
    assert.match(result.stderr, /apns_topic must start with com\.apple\.mgmt\./)
  })

  it('sets and removes the MDM push certificate', async () => {
    const { certificatePath: certificate, keyPath: key } = pushCertificate(dataDir, 'push', 'acme')
    const args = ['apple', 'push-certificate', '--tenant', 'acme', '--certificate', certificate, '--key', key]
    const wrong = await onramp([...args, '--environment', 'staging'], env)
    assert.equal(wrong.code, 2)
    assert.match(wrong.stderr, /--environment must be production or sandbox/)
    const set = await onrampJSON([...args, '--environment', 'sandbox'], env)
    assert.equal(set.push_certificate.topic, 'com.apple.mgmt.External.acme')
    assert.equal(set.push_certificate.environment, 'sandbox')
    const shown = await onramp(['apple', 'show', '--tenant', 'acme'], env)
    assert.match(shown.stdout, /^Push certificate: +sandbox, until /m)
    const removed = await onrampJSON(['apple', 'push-certificate', '--tenant', 'acme', '--remove'], env)
    assert.equal('push_certificate' in removed, false)
  })

  it('rotates the device CA', async () => {
    const before = await onrampJSON(['apple', 'show', '--tenant', 'acme'], env)
    const rotated = await onrampJSON(['apple', 'rotate-device-ca', '--tenant', 'acme'], env)
    assert.match(rotated.ca_certificate, /^-----BEGIN CERTIFICATE-----/)
    assert.notEqual(rotated.ca_certificate, before.ca_certificate)
  })

  it('sets and removes the profile-signing certificate', async () => {
    const { signer, intermediate } = profileSigningPKI(dataDir)
    const chain = join(dataDir, 'signer-chain.pem')
    await writeFile(chain, signer.certificate + intermediate.certificate)
    const command = ['apple', 'profile-signing-certificate', '--tenant', 'acme']
    const refused = await onramp([...command, '--certificate', chain, '--key', intermediate.keyPath], env)
    assert.notEqual(refused.code, 0)
    assert.match(refused.stderr, /does not belong to the first certificate/)
    const set = await onrampJSON([...command, '--certificate', chain, '--key', signer.keyPath], env)
    assert.equal(set.profile_signing_certificate.chain_length, 2)
    const shown = await onramp(['apple', 'show', '--tenant', 'acme'], env)
    assert.match(shown.stdout, /^Profile signing: +O=Initech, CN=signer, until /m)
    const removed = await onrampJSON([...command, '--remove'], env)
    assert.equal('profile_signing_certificate' in removed, false)
    const unsigned = await onramp(['apple', 'show', '--tenant', 'acme'], env)
    assert.match(unsigned.stdout, /^Profile signing: +unsigned$/m)
  })
})
