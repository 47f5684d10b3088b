import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startTestServer, type TestServer, uniqueId } from './admin-harness.ts'

const topic = 'com.apple.mgmt.External.5a1f'

describe('admin API: Apple enrollment', () => {
  let server: TestServer
  let tenant: string
  before(async () => {
    server = await startTestServer()
    tenant = uniqueId('apple')
    assert.equal((await server.admin('POST', '/tenants', { body: { id: tenant } })).status, 201)
  })
  after(async () => {
    await server?.close()
  })

  const domain = (name: string): string => `${name}-${tenant}.example`

  it('is off until configured, and needs the admin token', async () => {
    const missing = await server.admin('GET', `/tenants/${tenant}/apple`)
    assert.equal(missing.status, 404)
    assert.equal(missing.body.error, 'not_found')
    assert.equal((await server.admin('GET', `/tenants/${tenant}/apple`, { token: null })).status, 401)
    assert.equal((await server.admin('GET', '/tenants/no-such-tenant/apple')).status, 404)
  })

  it('configures a tenant with defaults, its CA, resource and client', async () => {
    const put = await server.admin('PUT', `/tenants/${tenant}/apple`, {
      body: { managed_domains: [domain('Acme').toUpperCase()], apns_topic: topic },
    })
    assert.equal(put.status, 200, JSON.stringify(put.body))
    const issuer = `http://onramp.test/t/${tenant}`
    assert.deepEqual(
      { ...put.body, ca_certificate: 'pem', created_at: 0, updated_at: 0 },
      {
        managed_domains: [domain('acme')],
        enrollment_types: {
          iPhone: 'mdm-byod',
          iPad: 'mdm-byod',
          Mac: 'mdm-byod',
          RealityDevice: 'mdm-byod',
          AppleTV: 'none',
          Watch: 'none',
        },
        authentication_method: 'apple-as-web',
        client_id: 'apple-enrollment',
        apns_topic: topic,
        access_rights: 8191,
        identity: { type: 'pkcs12', key_type: 'rsa' },
        device_trust_anchors: [],
        ca_certificate: 'pem',
        endpoints: {
          well_known: 'http://onramp.test/.well-known/com.apple.remotemanagement',
          enroll: { 'mdm-byod': `${issuer}/apple/enroll/byod`, 'mdm-adde': `${issuer}/apple/enroll/adde` },
          sign_in: `${issuer}/apple/login`,
        },
        created_at: 0,
        updated_at: 0,
      },
    )
    assert.match(put.body.ca_certificate, /^-----BEGIN CERTIFICATE-----\n/)
    assert.deepEqual((await server.admin('GET', `/tenants/${tenant}/apple`)).body, put.body)
    const client = await server.admin('GET', `/tenants/${tenant}/clients/apple-enrollment`)
    assert.equal(client.body.pkce_required, false)
    const resource = await server.admin('GET', `/tenants/${tenant}/resources/apple-mdm`)
    assert.equal(resource.body.access_token_ttl, 86400)
  })

  it('keeps the CA while its key type stays, and makes a new one when it changes', async () => {
    const before = (await server.admin('GET', `/tenants/${tenant}/apple`)).body
    const same = await server.admin('PUT', `/tenants/${tenant}/apple`, {
      body: { managed_domains: [domain('acme')], apns_topic: topic, organization: 'Acme Corp' },
    })
    assert.equal(same.body.ca_certificate, before.ca_certificate)
    assert.equal(same.body.created_at, before.created_at)
    const ec = await server.admin('PUT', `/tenants/${tenant}/apple`, {
      body: {
        managed_domains: [domain('acme')],
        apns_topic: topic,
        identity: { type: 'pkcs12', key_type: 'ec' },
      },
    })
    assert.notEqual(ec.body.ca_certificate, before.ca_certificate)
    const scep = await server.admin('PUT', `/tenants/${tenant}/apple`, {
      body: {
        managed_domains: [domain('acme')],
        apns_topic: topic,
        identity: {
          type: 'scep',
          payload: {
            URL: 'https://scep.example/scep',
            Keysize: 2048,
            Subject: [[['CN', 'device']]],
            Challenge: 'secret',
          },
        },
      },
    })
    assert.equal(scep.status, 200, JSON.stringify(scep.body))
    assert.deepEqual(scep.body.identity.payload.Subject, [[['CN', 'device']]])
    assert.equal('ca_certificate' in scep.body, false)
  })

  it('refuses a domain another tenant manages', async () => {
    const other = uniqueId('apple-other')
    await server.admin('POST', '/tenants', { body: { id: other } })
    const taken = await server.admin('PUT', `/tenants/${other}/apple`, {
      body: { managed_domains: [domain('free'), domain('acme')], apns_topic: topic },
    })
    assert.equal(taken.status, 409)
    assert.match(taken.body.error_description, new RegExp(domain('acme').replace(/\./g, '\\.')))
    assert.equal((await server.admin('GET', `/tenants/${other}/apple`)).status, 404, 'nothing was written')
  })

  it('refuses invalid settings with invalid_input', async () => {
    const base = { managed_domains: [domain('acme')], apns_topic: topic }
    for (const [body, message] of [
      [{ ...base, managed_domains: [] }, /managed_domains/],
      [{ ...base, managed_domains: ['localhost'] }, /fully qualified domain name/],
      [{ ...base, apns_topic: 'com.example.push' }, /com\.apple\.mgmt\./],
      [{ ...base, authentication_method: 'password' }, /authentication_method/],
      [{ ...base, enrollment_types: { Toaster: 'mdm-byod' } }, /unknown model family/],
      [{ ...base, enrollment_types: { iPhone: 'mdm-yes' } }, /enrollment_types/],
      [{ ...base, access_rights: 2 }, /access_rights/],
      [{ ...base, access_rights: 0 }, /access_rights/],
      [
        { ...base, enrollment_sso: { AssociatedDomains: ['x.example'], ConfigurationProfile: 'AA==' } },
        /iTunesStoreID/,
      ],
      [{ ...base, enrollment_sso: { iTunesStoreID: 1 } }, /ConfigurationProfile and Declarations/],
      [{ ...base, enrollment_sso: { iTunesStoreID: 1, Declarations: ['AA=='], AppIDs: ['T.a'] } }, /AppIDs/],
      [{ ...base, enrollment_sso_developer: { ConfigurationProfile: 'AA==' } }, /AppIDs/],
      [{ ...base, identity: { type: 'scep', payload: { Name: 'x' } } }, /URL of the SCEP server/],
      [
        { ...base, identity: { type: 'acme', payload: { DirectoryURL: 'https://acme.example/dir' } } },
        /KeySize/,
      ],
      [{ ...base, identity: { type: 'pkcs12', key_type: 'dsa' } }, /identity/],
      [{ ...base, device_trust_anchors: ['not a certificate'] }, /device_trust_anchors/],
      [{ ...base, surprise: true }, /unknown property "surprise"/],
      [{ managed_domains: [domain('acme')] }, /apns_topic/],
    ] as const) {
      const response = await server.admin('PUT', `/tenants/${tenant}/apple`, { body })
      assert.equal(response.status, 400, JSON.stringify(body))
      assert.equal(response.body.error, 'invalid_input')
      assert.match(response.body.error_description, message, JSON.stringify(body))
    }
  })

  it('lists no enrollments yet, and finds no unknown one', async () => {
    const page = await server.admin('GET', `/tenants/${tenant}/apple/enrollments?limit=10`)
    assert.deepEqual(page.body, { enrollments: [] })
    for (const path of ['', '/commands', '/revoke-tokens']) {
      const response = await server.admin(
        path === '/revoke-tokens' ? 'POST' : 'GET',
        `/tenants/${tenant}/apple/enrollments/06gvr0kui0pna1dnci6s9g2vsg${path}`,
      )
      assert.equal(response.status, 404, path)
    }
    const command = await server.admin(
      'POST',
      `/tenants/${tenant}/apple/enrollments/06gvr0kui0pna1dnci6s9g2vsg/commands`,
      {
        body: { RequestType: 'DeviceLock' },
      },
    )
    assert.equal(command.status, 404)
    const noType = await server.admin(
      'POST',
      `/tenants/${tenant}/apple/enrollments/06gvr0kui0pna1dnci6s9g2vsg/commands`,
      {
        body: { Queries: ['UDID'] },
      },
    )
    assert.equal(noType.status, 400)
    assert.equal((await server.admin('GET', `/tenants/${tenant}/apple/enrollments?limit=0`)).status, 400)
  })
})
