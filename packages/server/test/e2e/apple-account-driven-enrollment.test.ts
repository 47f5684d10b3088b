import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { createSecureContext } from 'node:tls'
import { type PlistValue, parse } from 'plist'
import { timeOrderedId } from '../../src/crypto/secrets.ts'
import {
  DeviceEmulator,
  type Dict,
  type MdmRequestOptions,
  parseChallenge,
} from '../apple/device-emulator.ts'
import {
  admin,
  enrollDevice,
  oauthAccessToken,
  readAppleFixture,
  signedInPerson,
  signInDevice,
} from '../apple/support.ts'
import { machineInfoPlist, signedMessage, testDevicePKI } from '../apple/test-pki.ts'
import { Browser, logIn } from '../support/hosted-login.ts'
import { SeededRandom } from '../support/seeded-random.ts'
import { startTestServer, type TestServer } from '../support/server.ts'

const topic = 'com.apple.mgmt.External.9f3c2a71-6a2e-4bd8-a1c5-0d52f0c9e1aa'

describe('Apple account-driven enrollment', () => {
  let server: TestServer
  const run = timeOrderedId().slice(-6)
  /** Tenant with the simple method: iPhones get user enrollments, Macs device enrollments. */
  const simple = `apple-web-${run}`
  const simpleDomain = `acme-${run}.example`
  /** Tenant with the OAuth 2 method and Enrollment SSO. */
  const oauth = `apple-oauth-${run}`
  const oauthDomain = `globex-${run}.example`
  const essoDocument = {
    iTunesStoreID: 1_234_567_890,
    AssociatedDomains: [oauthDomain],
    ConfigurationProfile: Buffer.from('<plist/>').toString('base64'),
  }

  const enrollments = (tenant: string): Promise<number> =>
    server.countRows('apple_enrollments', { tenantId: tenant })

  before(async () => {
    server = await startTestServer()
    for (const id of [simple, oauth]) await server.services.tenants.create({ id })
    const configured = await admin(server, 'PUT', `/tenants/${simple}/apple`, {
      managed_domains: [simpleDomain],
      apns_topic: topic,
      organization: 'Acme Corp',
      enrollment_types: { Mac: 'mdm-adde' },
    })
    assert.equal(configured.status, 200, JSON.stringify(configured.body))
    const second = await admin(server, 'PUT', `/tenants/${oauth}/apple`, {
      managed_domains: [oauthDomain],
      apns_topic: topic,
      authentication_method: 'apple-oauth2',
      enrollment_types: { iPad: 'mdm-adde' },
      enrollment_sso: essoDocument,
      identity: { type: 'pkcs12', key_type: 'ec' },
    })
    assert.equal(second.status, 200, JSON.stringify(second.body))
  })
  after(async () => {
    await server?.close()
  })

  function iPhone(user = `alice@${simpleDomain}`): DeviceEmulator {
    return new DeviceEmulator({
      userIdentifier: user,
      modelFamily: 'iPhone',
      machineInfo: readAppleFixture(),
      identifiers: { EnrollmentID: `ENR-${timeOrderedId()}` },
    })
  }

  describe('service discovery', () => {
    it('selects the tenant by the user identifier’s domain and the type by the model family', async () => {
      for (const [family, version, path] of [
        ['iPhone', 'mdm-byod', 'byod'],
        ['iPad', 'mdm-byod', 'byod'],
        ['Mac', 'mdm-adde', 'adde'],
      ] as const) {
        const device = new DeviceEmulator({
          userIdentifier: `First.Last+tag@${simpleDomain.toUpperCase()}`,
          modelFamily: family,
          machineInfo: readAppleFixture(),
          identifiers: {},
        })
        const { response, server: found } = await device.discover(server.url)
        assert.equal(response.headers.get('cache-control'), 'no-store')
        assert.deepEqual(JSON.parse(response.body.toString()), {
          Servers: [{ Version: version, BaseURL: `${server.issuer(simple)}/apple/enroll/${path}` }],
        })
        assert.equal(found?.Version, version)
      }
    })

    it('answers 403 com.apple.well-known.failed for unknown domains, bad identifiers and refused families', async () => {
      for (const [user, family] of [
        ['alice@unknown.example', 'iPhone'],
        ['no-domain', 'iPhone'],
        [`@${simpleDomain}`, 'iPhone'],
        [`alice@${simpleDomain}`, 'Watch'],
        [`alice@${simpleDomain}`, 'Toaster'],
      ]) {
        const device = new DeviceEmulator({
          userIdentifier: user!,
          modelFamily: family!,
          machineInfo: Buffer.alloc(0),
          identifiers: {},
        })
        const { response } = await device.discover(server.url)
        assert.equal(response.status, 403, `${user} ${family}`)
        assert.match(response.headers.get('content-type') ?? '', /^application\/json/)
        const body = JSON.parse(response.body.toString())
        assert.equal(body.code, 'com.apple.well-known.failed')
        assert.equal(typeof body.description, 'string')
        assert.equal(typeof body.message, 'string')
      }
      const missing = await fetch(`${server.url}/.well-known/com.apple.remotemanagement`)
      assert.equal(missing.status, 403)
      assert.equal((await missing.json()).code, 'com.apple.well-known.failed')
    })

    it('answers the rejection as a property list to a client that asks for XML', async () => {
      const response = await fetch(
        `${server.url}/.well-known/com.apple.remotemanagement?user-identifier=a@nowhere.example&model-family=iPhone`,
        { headers: { accept: 'application/xml' } },
      )
      assert.equal(response.status, 403)
      assert.match(response.headers.get('content-type') ?? '', /^application\/xml/)
      assert.equal((parse(await response.text()) as Dict).code, 'com.apple.well-known.failed')
    })

    it('works behind the organization’s redirect when the redirect keeps the query', async () => {
      // The organization's web server answers for its domain and sends devices to Onramp. Apple's
      // client does not add the query again, so the redirect must carry it.
      const redirects: Record<string, (query: string) => string> = {
        '/keeps': (query) => `${server.url}/.well-known/com.apple.remotemanagement${query}`,
        '/drops': () => `${server.url}/.well-known/com.apple.remotemanagement`,
      }
      const organization: Server = createServer((request, response) => {
        const url = new URL(request.url!, 'http://organization.example')
        response.writeHead(308, {
          location: redirects[url.pathname.replace(/\/\.well-known.*$/, '')]!(url.search),
        })
        response.end()
      })
      await new Promise<void>((resolve) => organization.listen(0, '127.0.0.1', resolve))
      try {
        const { port } = organization.address() as { port: number }
        const device = iPhone()
        const kept = await device.discover(`http://127.0.0.1:${port}/keeps`)
        assert.equal(kept.server?.BaseURL, `${server.issuer(simple)}/apple/enroll/byod`)
        const dropped = await device.discover(`http://127.0.0.1:${port}/drops`)
        assert.equal(dropped.response.status, 403)
      } finally {
        await new Promise((resolve) => organization.close(resolve))
      }
    })
  })

  describe('a user enrollment with the simple method (iPhone)', () => {
    const email = `alice@${simpleDomain}`
    const device = iPhone(email)
    let baseURL: string
    let enrollmentId: string

    it('challenges the real device’s signed first request, storing nothing', async () => {
      const { server: found } = await device.discover(server.url)
      baseURL = found!.BaseURL
      const before = await enrollments(simple)
      const response = await device.postEnrollment(baseURL)
      assert.equal(response.status, 401)
      assert.equal(
        response.headers.get('www-authenticate'),
        `Bearer method="apple-as-web", url="${server.issuer(simple)}/apple/login"`,
      )
      assert.deepEqual(parseChallenge(response.headers.get('www-authenticate')!), {
        scheme: 'Bearer',
        params: { method: 'apple-as-web', url: `${server.issuer(simple)}/apple/login` },
      })
      assert.equal(response.headers.get('x-apple-mdm-esso'), null)
      assert.equal(response.body.length, 0)
      assert.equal(await enrollments(simple), before)
    })

    it('issues the enrollment profile for the signed-in person, checked key by key', async () => {
      const token = await signInDevice(server, simple, email, device)
      const response = await device.postEnrollment(baseURL, { token })
      assert.equal(response.headers.get('cache-control'), 'no-store')
      const profile = device.acceptProfile(response)
      const content = profile.PayloadContent as Dict[]
      assert.deepEqual(Object.keys(profile).sort(), [
        'PayloadContent',
        'PayloadDisplayName',
        'PayloadIdentifier',
        'PayloadOrganization',
        'PayloadType',
        'PayloadUUID',
        'PayloadVersion',
      ])
      assert.equal(profile.PayloadType, 'Configuration')
      assert.equal(profile.PayloadVersion, 1)
      assert.equal(profile.PayloadIdentifier, `onramp.${simple}.mdm`)
      assert.match(
        profile.PayloadUUID as string,
        /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/,
      )
      assert.equal(profile.PayloadDisplayName, 'Acme Corp device management')
      assert.equal(profile.PayloadOrganization, 'Acme Corp')
      assert.equal(content.length, 2)

      const identity = content.find((p) => p.PayloadType === 'com.apple.security.pkcs12')!
      assert.ok(identity, 'no identity payload')
      assert.equal(identity.PayloadVersion, 1)
      assert.equal(identity.PayloadIdentifier, `onramp.${simple}.mdm.identity`)
      assert.equal(identity.PayloadCertificateFileName, 'identity.p12')
      assert.ok(identity.PayloadContent instanceof Uint8Array)
      createSecureContext({
        pfx: Buffer.from(identity.PayloadContent),
        passphrase: identity.Password as string,
      })

      const mdm = device.mdmPayload()
      enrollmentId = (mdm.CheckInURL as string).split('/').at(-2)!
      assert.deepEqual(mdm, {
        PayloadType: 'com.apple.mdm',
        PayloadVersion: 1,
        PayloadIdentifier: `onramp.${simple}.mdm.mdm`,
        PayloadUUID: mdm.PayloadUUID,
        PayloadDisplayName: 'Device management',
        IdentityCertificateUUID: identity.PayloadUUID,
        Topic: topic,
        ServerURL: `${server.issuer(simple)}/apple/mdm/${enrollmentId}/connect`,
        CheckInURL: `${server.issuer(simple)}/apple/mdm/${enrollmentId}/checkin`,
        CheckOutWhenRemoved: true,
        ServerCapabilities: ['com.apple.mdm.per-user-connections'],
        SignMessage: true,
        EnrollmentMode: 'BYOD',
        AssignedManagedAppleID: email,
      })
      assert.equal('AccessRights' in mdm, false, 'a user enrollment must not declare access rights')
      assert.notEqual(mdm.PayloadUUID, identity.PayloadUUID)

      const recorded = await admin(server, 'GET', `/tenants/${simple}/apple/enrollments/${enrollmentId}`)
      assert.equal(recorded.status, 200)
      const certificate = Buffer.from(device.identity!.certificate.toSchema(true).toBER(false))
      assert.equal(recorded.body.identity_sha256, createHash('sha256').update(certificate).digest('hex'))
      assert.equal(
        recorded.body.identity_not_after,
        device.identity!.certificate.notAfter.value.getTime() / 1000,
        'the identity’s expiry',
      )
      assert.deepEqual(
        {
          ...recorded.body,
          profile_id: '',
          identity_serial: '',
          identity_sha256: '',
          identity_not_after: 0,
          created_at: 0,
          updated_at: 0,
          last_seen_at: 0,
        },
        {
          enrollment_id: enrollmentId,
          profile_id: '',
          enrollment_type: 'mdm-byod',
          managed_apple_id: email,
          status: 'profile_issued',
          device: { product: 'iPhone12,1', os_build: '19H12', language: 'ja-JP' },
          identity_serial: '',
          identity_sha256: '',
          identity_not_after: 0,
          unlock_token_escrowed: false,
          created_at: 0,
          updated_at: 0,
          last_seen_at: 0,
        },
      )
    })

    it('checks in with the bearer token: Authenticate, then TokenUpdate', async () => {
      const authenticate = await device.checkIn({
        MessageType: 'Authenticate',
        Topic: topic,
        BuildVersion: '19H12',
        OSVersion: '15.7',
        ProductName: 'iPhone12,1',
      })
      assert.equal(authenticate.status, 200, authenticate.body.toString())
      assert.equal(
        (await admin(server, 'GET', `/tenants/${simple}/apple/enrollments/${enrollmentId}`)).body.status,
        'authenticated',
      )
      const update = await device.checkIn({
        MessageType: 'TokenUpdate',
        Topic: topic,
        Token: Buffer.from('c0ffee00', 'hex'),
        PushMagic: '7C0F3F9E-3B2B-4A8E-9D6D-2C0B9D5B1F3A',
      })
      assert.equal(update.status, 200)
      const { body } = await admin(server, 'GET', `/tenants/${simple}/apple/enrollments/${enrollmentId}`)
      assert.equal(body.status, 'enrolled')
      assert.equal(body.push_topic, topic)
      assert.equal(body.device.apple_enrollment_id, device.identifiers.EnrollmentID)
      assert.equal(body.device.os_version, '15.7')
      assert.equal('push_token' in body || 'push_magic' in body, false)
    })

    it('delivers a queued command on Idle and stores its result', async () => {
      assert.equal((await device.connect({ Status: 'Idle' })).body.length, 0, 'nothing is queued yet')
      const queued = await admin(
        server,
        'POST',
        `/tenants/${simple}/apple/enrollments/${enrollmentId}/commands`,
        {
          RequestType: 'ProfileList',
        },
      )
      assert.equal(queued.status, 201)
      assert.equal(queued.body.status, 'queued')
      const idle = await device.connect({ Status: 'Idle' })
      assert.equal(idle.status, 200)
      assert.equal(idle.headers.get('content-type'), 'application/xml')
      const delivered = parse(idle.body.toString()) as Dict
      assert.deepEqual(delivered, {
        CommandUUID: queued.body.command_uuid,
        Command: { RequestType: 'ProfileList' },
      })
      const result = await device.connect({
        Status: 'Acknowledged',
        CommandUUID: queued.body.command_uuid,
        ProfileList: [{ PayloadIdentifier: `onramp.${simple}.mdm` }],
      })
      assert.equal(result.status, 200)
      assert.equal(result.body.length, 0, 'no more commands')
      const { body } = await admin(
        server,
        'GET',
        `/tenants/${simple}/apple/enrollments/${enrollmentId}/commands`,
      )
      assert.equal(body.commands.length, 1)
      assert.equal(body.commands[0].status, 'Acknowledged')
      assert.deepEqual(body.commands[0].result.ProfileList, [{ PayloadIdentifier: `onramp.${simple}.mdm` }])
      assert.equal(typeof body.commands[0].completed_at, 'number')
    })

    it('sends a postponed command again at the next Idle, not at once', async () => {
      const queued = await admin(
        server,
        'POST',
        `/tenants/${simple}/apple/enrollments/${enrollmentId}/commands`,
        {
          RequestType: 'InstallProfile',
          Payload: { $data: Buffer.from('<plist/>').toString('base64') },
        },
      )
      const first = parse((await device.connect({ Status: 'Idle' })).body.toString()) as Dict
      assert.equal(first.CommandUUID, queued.body.command_uuid)
      assert.deepEqual(Buffer.from((first.Command as Dict).Payload as Uint8Array).toString(), '<plist/>')
      const notNow = await device.connect({ Status: 'NotNow', CommandUUID: queued.body.command_uuid })
      assert.equal(notNow.body.length, 0)
      const again = parse((await device.connect({ Status: 'Idle' })).body.toString()) as Dict
      assert.equal(again.CommandUUID, queued.body.command_uuid)
      await device.connect({
        Status: 'Error',
        CommandUUID: queued.body.command_uuid,
        ErrorChain: [{ ErrorCode: 4001 }],
      })
      const { body } = await admin(
        server,
        'GET',
        `/tenants/${simple}/apple/enrollments/${enrollmentId}/commands`,
      )
      assert.equal(body.commands.at(-1).status, 'Error')
    })

    it('forces a new sign-in when an administrator revokes the enrollment’s tokens', async () => {
      const revoked = await admin(
        server,
        'POST',
        `/tenants/${simple}/apple/enrollments/${enrollmentId}/revoke-tokens`,
      )
      assert.deepEqual(revoked.body, { enrollment_id: enrollmentId, revoked: true })
      for (const response of [
        await device.connect({ Status: 'Idle' }),
        await device.checkIn({
          MessageType: 'TokenUpdate',
          Topic: topic,
          Token: Buffer.from('00', 'hex'),
          PushMagic: 'x',
        }),
      ]) {
        assert.equal(response.status, 401)
        assert.equal(
          response.headers.get('www-authenticate'),
          `Bearer method="apple-as-web", url="${server.issuer(simple)}/apple/login"`,
        )
      }
      // The same person signs in again: the new token works, and the enrollment follows it.
      await signInDevice(server, simple, email, device)
      assert.equal((await device.connect({ Status: 'Idle' })).status, 200)
      const again = await admin(
        server,
        'POST',
        `/tenants/${simple}/apple/enrollments/${enrollmentId}/revoke-tokens`,
      )
      assert.equal(again.body.revoked, true, 'the new family is the enrollment’s now')
      await signInDevice(server, simple, email, device)
    })

    it('refuses another person’s token, another device and unknown check-in messages', async () => {
      const other = iPhone(`bob@${simpleDomain}`)
      await signInDevice(server, simple, `bob@${simpleDomain}`, other)
      const foreign = await device.connect({ Status: 'Idle' }, { token: other.accessToken! })
      assert.equal(foreign.status, 403)
      const impostor = await device.checkIn({
        MessageType: 'Authenticate',
        Topic: topic,
        EnrollmentID: 'ENR-other',
      })
      assert.equal(impostor.status, 400)
      const getToken = await device.checkIn({ MessageType: 'GetToken', TokenServiceType: 'com.apple.maid' })
      assert.equal(getToken.status, 400)
      assert.match(JSON.parse(getToken.body.toString()).error_description, /com\.apple\.maid/)
      assert.equal((await device.checkIn({ MessageType: 'SetBootstrapToken' })).status, 400)
      assert.equal(
        (await device.checkIn({ MessageType: 'UserAuthenticate', UserID: 'u', DigestResponse: '' })).status,
        410,
      )
      const result = await device.connect({ Status: 'Acknowledged', CommandUUID: timeOrderedId() })
      assert.equal(result.status, 400, 'a result for a command never sent')
      const noToken = await device.checkIn({ MessageType: 'Authenticate', Topic: topic }, { token: null })
      assert.equal(noToken.status, 401)
      assert.match(noToken.headers.get('www-authenticate') ?? '', /^Bearer method="apple-as-web", url="/)
    })

    it('refuses ClearPasscode to a device that escrowed no UnlockToken, and an empty one', async () => {
      const clear = await admin(
        server,
        'POST',
        `/tenants/${simple}/apple/enrollments/${enrollmentId}/commands`,
        {
          RequestType: 'ClearPasscode',
        },
      )
      assert.equal(clear.status, 409)
      assert.match(clear.body.error_description, /UnlockToken/)
      const empty = await device.checkIn({
        MessageType: 'TokenUpdate',
        Topic: topic,
        Token: Buffer.from('c0ffee00', 'hex'),
        PushMagic: '7C0F3F9E-3B2B-4A8E-9D6D-2C0B9D5B1F3A',
        UnlockToken: Buffer.alloc(0),
      })
      assert.equal(empty.status, 400)
      const { body } = await admin(server, 'GET', `/tenants/${simple}/apple/enrollments/${enrollmentId}`)
      assert.equal(body.unlock_token_escrowed, false)
    })

    it('takes messages only with an Mdm-Signature made with the enrollment’s identity', async () => {
      const queued = await admin(
        server,
        'POST',
        `/tenants/${simple}/apple/enrollments/${enrollmentId}/commands`,
        { RequestType: 'DeviceInformation', Queries: ['OSVersion'] },
      )
      assert.equal(queued.status, 201, JSON.stringify(queued.body))
      const before = (await admin(server, 'GET', `/tenants/${simple}/apple/enrollments/${enrollmentId}`)).body
      const other = iPhone()
      await enrollDevice(server, other, simple, email)
      const body = Buffer.from('<plist version="1.0"><dict/></plist>')
      const refusals: [string, MdmRequestOptions][] = [
        ['no signature', { signedBy: null }],
        ['another enrollment’s identity', { signedBy: other }],
        ['a signature of another body', { signature: await device.signMessage(body) }],
        ['an empty header', { signature: '' }],
        ['text that is not Base64', { signature: 'not base64!' }],
        ['Base64 that is not CMS', { signature: Buffer.from('hello').toString('base64') }],
        [
          'a signature with content of its own',
          { signature: (await signedMessage(body, device.identity, [device.identity!])).toString('base64') },
        ],
      ]
      for (const [what, options] of refusals) {
        for (const send of [
          () => device.connect({ Status: 'Idle' }, options),
          () => device.checkIn({ MessageType: 'Authenticate', Topic: topic }, options),
          () => device.checkIn({ MessageType: 'CheckOut', Topic: topic }, options),
        ]) {
          const response = await send()
          assert.equal(response.status, 403, `${what}: ${response.body.toString()}`)
          assert.equal(JSON.parse(response.body.toString()).error, 'forbidden')
        }
      }
      const after = (await admin(server, 'GET', `/tenants/${simple}/apple/enrollments/${enrollmentId}`)).body
      assert.deepEqual(after, before, 'a refused message changes nothing')
      const idle = await device.connect({ Status: 'Idle' })
      assert.equal(idle.status, 200)
      const command = parse(idle.body.toString()) as Dict
      assert.equal((command.Command as Dict).RequestType, 'DeviceInformation', 'the command was still queued')
      const done = await device.connect({
        Status: 'Acknowledged',
        CommandUUID: command.CommandUUID as string,
      })
      assert.equal(done.status, 200)
    })

    it('answers hostile check-in and server messages with a 4xx or a success', async () => {
      const random = new SeededRandom(Number(process.env.ONRAMP_FUZZ_SEED ?? 20261121))
      const value = (depth: number): PlistValue => {
        switch (random.below(depth > 2 ? 6 : 8)) {
          case 0:
            return random.pick(['', 'x'.repeat(random.below(5000)), '<&">', topic, 'Idle', timeOrderedId()])
          case 1:
            return random.pick([0, -1, 2 ** 53, 1.5])
          case 2:
            return random.chance(0.5)
          case 3:
            return Buffer.from(Array.from({ length: random.below(64) }, () => random.below(256)))
          case 4:
            return new Date(random.pick([0, Date.now(), 8.64e15]))
          case 5:
            return random.pick(['Authenticate', 'TokenUpdate', 'Acknowledged', 'Error', 'NotNow', 'Idle'])
          case 6:
            return Array.from({ length: random.below(4) }, () => value(depth + 1))
          default:
            return Object.fromEntries(
              Array.from({ length: random.below(4) }, () => [random.pick(keys), value(depth + 1)]),
            )
        }
      }
      // CheckOut is left out: it would end the enrollment the next tests check out.
      const keys = ['MessageType', 'Topic', 'Token', 'PushMagic', 'UnlockToken', 'Status', 'CommandUUID']
      const keysWithDetails = [...keys, 'ErrorChain', 'UDID', 'EnrollmentID', 'RequestType', 'QueryResponses']
      const messageTypes = ['Authenticate', 'TokenUpdate', 'GetToken', 'DeclarativeManagement', 'Unknown']
      const statuses = new Set<number>()
      for (let run = 0; run < 150; run++) {
        const message: Dict = random.chance(0.5)
          ? { MessageType: random.pick(messageTypes), Topic: topic }
          : { Status: random.pick(['Idle', 'Acknowledged', 'Error', 'NotNow', 'Bogus']) }
        for (let i = random.below(4); i > 0; i--) message[random.pick(keysWithDetails)] = value(0)
        if (message.MessageType === 'CheckOut') message.MessageType = 'Authenticate'
        const response = random.chance(0.5) ? await device.checkIn(message) : await device.connect(message)
        statuses.add(response.status)
        assert.ok(response.status < 500, `${response.status} for ${JSON.stringify(message).slice(0, 300)}`)
      }
      assert.ok(
        [...statuses].some((status) => status < 300),
        `only ${[...statuses]}`,
      )
    })

    it('accepts CheckOut with an expired token, then refuses the enrollment', async () => {
      const tenant = await server.services.tenants.get(simple)
      const claims = JSON.parse(Buffer.from(device.accessToken!.split('.')[1]!, 'base64url').toString())
      const expired = await server.services.tokens.issueAccessToken(tenant, {
        subject: claims.sub,
        audience: 'apple-mdm',
        clientId: claims.client_id,
        scope: claims.scope,
        sid: claims.sid,
        ttl: -60,
      })
      assert.equal((await device.connect({ Status: 'Idle' }, { token: expired.token })).status, 401)
      const checkOut = await device.checkIn(
        { MessageType: 'CheckOut', Topic: topic },
        { token: expired.token },
      )
      assert.equal(checkOut.status, 200, checkOut.body.toString())
      const { body } = await admin(server, 'GET', `/tenants/${simple}/apple/enrollments/${enrollmentId}`)
      assert.equal(body.status, 'checked_out')
      assert.equal(typeof body.checked_out_at, 'number')
      assert.equal((await device.connect({ Status: 'Idle' })).status, 401, 'checking out revoked the family')
      const queued = await admin(
        server,
        'POST',
        `/tenants/${simple}/apple/enrollments/${enrollmentId}/commands`,
        {
          RequestType: 'DeviceLock',
        },
      )
      assert.equal(queued.status, 409)
    })

    it('refuses a forged CheckOut: the signature must verify', async () => {
      const next = iPhone(email)
      const id = await enrollDevice(server, next, simple, email)
      const [header, payload] = next.accessToken!.split('.')
      const forged = `${header}.${payload}.${Buffer.alloc(64).toString('base64url')}`
      assert.equal(
        (await next.checkIn({ MessageType: 'CheckOut', Topic: topic }, { token: forged })).status,
        401,
      )
      const { body } = await admin(server, 'GET', `/tenants/${simple}/apple/enrollments/${id}`)
      assert.equal(body.status, 'profile_issued')
    })
  })

  describe('a device enrollment with the OAuth 2 method (iPad)', () => {
    /** What the iPad escrows in its TokenUpdate, for ClearPasscode. */
    const unlockToken = Buffer.from(Array.from({ length: 120 }, (_, i) => (i * 37) % 256))
    const email = `carol@${oauthDomain}`
    const credentials = { email, password: 'correct horse battery staple 42' }
    const udid = '00008103-001A2B3C4D5E6F70'
    const device = new DeviceEmulator({
      userIdentifier: email,
      modelFamily: 'iPad',
      machineInfo: readAppleFixture(),
      identifiers: { UDID: udid },
    })

    it('challenges with the OAuth 2 parameters and the Enrollment SSO document', async () => {
      const { server: found } = await device.discover(server.url)
      assert.equal(found?.Version, 'mdm-adde')
      const response = await device.postEnrollment(found!.BaseURL, { contentType: 'application/xml' })
      assert.equal(response.status, 401)
      const issuer = server.issuer(oauth)
      assert.equal(
        response.headers.get('www-authenticate'),
        `Bearer method="apple-oauth2", authorization-url="${issuer}/authorize", token-url="${issuer}/token", ` +
          'redirect-url="apple-remotemanagement-user-login:/oauth2/redirection", client-id="apple-enrollment", scope="mdm"',
      )
      const essoURL = response.headers.get('x-apple-mdm-esso')
      assert.equal(essoURL, `${issuer}/apple/enrollment-sso`)
      assert.equal(response.headers.get('x-apple-mdm-esso-developer'), null)
      const document = await fetch(essoURL!)
      assert.equal(document.status, 200)
      assert.match(document.headers.get('content-type') ?? '', /^application\/json/)
      assert.deepEqual(await document.json(), essoDocument)
      assert.equal((await fetch(`${issuer}/apple/enrollment-sso-developer`)).status, 404)
    })

    it('registers the Apple client as a public client exempt from PKCE', async () => {
      const { body } = await admin(server, 'GET', `/tenants/${oauth}/clients/apple-enrollment`)
      assert.equal(body.type, 'public')
      assert.equal(body.pkce_required, false)
      assert.deepEqual(body.grant_types, ['authorization_code', 'refresh_token'])
      assert.ok(body.redirect_uris.includes('apple-remotemanagement-user-login:/oauth2/redirection'))
      const resource = await admin(server, 'GET', `/tenants/${oauth}/resources/apple-mdm`)
      assert.equal(resource.status, 200)
      assert.deepEqual(resource.body.allowed_clients, [])
    })

    it('runs the authorization code grant without PKCE, then issues the profile for its access token', async () => {
      const { server: found } = await device.discover(server.url)
      const challenge = await device.postEnrollment(found!.BaseURL)
      assert.equal(challenge.status, 401)
      const parsed = parseChallenge(challenge.headers.get('www-authenticate')!)
      const issuer = server.issuer(oauth)
      // The device opens the authorization URL from the challenge's parameters, without PKCE.
      const authorizationURL = new URL(device.oauth2AuthorizationURL(parsed))
      assert.equal(`${authorizationURL.origin}${authorizationURL.pathname}`, `${issuer}/authorize`)
      assert.deepEqual(
        { ...Object.fromEntries(authorizationURL.searchParams), state: '' },
        {
          response_type: 'code',
          client_id: 'apple-enrollment',
          redirect_uri: 'apple-remotemanagement-user-login:/oauth2/redirection',
          scope: 'mdm',
          state: '',
        },
      )
      // The person signs up at the hosted login in the device's web view.
      const redirect = await logIn(new Browser(server.url), authorizationURL.toString(), credentials, {
        signUp: true,
      })
      assert.equal(redirect.protocol, 'apple-remotemanagement-user-login:')
      assert.equal(redirect.pathname, '/oauth2/redirection')
      assert.equal(redirect.searchParams.get('state'), authorizationURL.searchParams.get('state'))
      assert.equal(redirect.searchParams.get('iss'), issuer)
      assert.ok(redirect.searchParams.get('code'))
      // The device redeems the code at the token URL: no verifier, no DPoP.
      const tokens = await device.acceptOAuth2Redirect(redirect.toString(), issuer)
      assert.match(String(tokens.token_type), /^bearer$/i)
      assert.equal(typeof tokens.access_token, 'string')
      assert.equal(typeof tokens.refresh_token, 'string', 'the Apple client gets a refresh token')
      assert.equal(device.accessToken, tokens.access_token)
      const response = await device.postEnrollment(found!.BaseURL, {
        contentType: 'application/x-www-form-urlencoded',
        token: device.accessToken,
      })
      device.acceptProfile(response)
      const mdm = device.mdmPayload()
      assert.equal(mdm.EnrollmentMode, 'ADDE')
      assert.equal(mdm.AccessRights, 8191)
      assert.equal(mdm.AssignedManagedAppleID, email)
      const identity = (device.profile!.PayloadContent as Dict[])[0]!
      createSecureContext({
        pfx: Buffer.from(identity.PayloadContent as Uint8Array),
        passphrase: identity.Password as string,
      })
      assert.equal(
        (await device.checkIn({ MessageType: 'Authenticate', Topic: topic, SerialNumber: 'DMPXK0ABCDEF' }))
          .status,
        200,
      )
      assert.equal(
        (
          await device.checkIn({
            MessageType: 'TokenUpdate',
            Topic: topic,
            Token: Buffer.from('ab', 'hex'),
            PushMagic: 'm',
            UnlockToken: unlockToken,
          })
        ).status,
        200,
      )
      const id = (mdm.CheckInURL as string).split('/').at(-2)!
      const { body } = await admin(server, 'GET', `/tenants/${oauth}/apple/enrollments/${id}`)
      assert.deepEqual(
        [body.enrollment_type, body.status, body.device.udid, body.device.serial_number],
        ['mdm-adde', 'enrolled', udid, 'DMPXK0ABCDEF'],
      )
      const wrongDevice = await device.connect({ Status: 'Idle', UDID: '00008103-FFFFFFFFFFFFFFFF' })
      assert.equal(wrongDevice.status, 400)
    })

    it('keeps the UnlockToken sealed and adds it only to the ClearPasscode the device gets', async () => {
      const id = (device.mdmPayload().CheckInURL as string).split('/').at(-2)!
      const enrollment = await admin(server, 'GET', `/tenants/${oauth}/apple/enrollments/${id}`)
      assert.equal(enrollment.body.unlock_token_escrowed, true)
      const stored = await server.services.store.appleEnrollments.get(oauth, id)
      assert.ok(!stored!.sealedUnlockToken!.includes(unlockToken.toString('base64')), 'sealed at rest')
      const queued = await admin(server, 'POST', `/tenants/${oauth}/apple/enrollments/${id}/commands`, {
        RequestType: 'ClearPasscode',
      })
      assert.equal(queued.status, 201, JSON.stringify(queued.body))
      const listed = await admin(server, 'GET', `/tenants/${oauth}/apple/enrollments/${id}/commands`)
      assert.ok(
        !JSON.stringify(listed.body).includes(unlockToken.toString('base64')),
        'never in the admin API',
      )
      const idle = await device.connect({ Status: 'Idle' })
      const delivered = parse(idle.body.toString()) as Dict
      const command = delivered.Command as Dict
      assert.equal(command.RequestType, 'ClearPasscode')
      assert.deepEqual(Buffer.from(command.UnlockToken as Uint8Array), unlockToken)
      const done = await device.connect({
        Status: 'Acknowledged',
        CommandUUID: delivered.CommandUUID as string,
      })
      assert.equal(done.status, 200)
    })

    it('refreshes silently at the token URL when the token expires, and signs in again when revoked', async () => {
      const issuer = server.issuer(oauth)
      const tenant = await server.services.tenants.get(oauth)
      const claims = JSON.parse(Buffer.from(device.accessToken!.split('.')[1]!, 'base64url').toString())
      const expired = await server.services.tokens.issueAccessToken(tenant, {
        subject: claims.sub,
        audience: claims.aud,
        clientId: claims.client_id,
        scope: claims.scope,
        sid: claims.sid,
        ttl: -60,
      })
      device.accessToken = expired.token
      const refused = await device.connect({ Status: 'Idle' })
      assert.equal(refused.status, 401)
      const challenge = parseChallenge(refused.headers.get('www-authenticate')!)
      assert.equal(challenge.params.method, 'apple-oauth2')
      assert.equal(challenge.params['token-url'], `${issuer}/token`)
      // The device refreshes silently: no web view.
      assert.ok(device.refreshToken)
      const refreshed = await device.refreshOAuth2()
      assert.equal(typeof refreshed.access_token, 'string')
      assert.notEqual(device.accessToken, expired.token)
      assert.ok(device.refreshToken)
      assert.equal((await device.connect({ Status: 'Idle' })).status, 200)
      assert.equal(
        (
          await device.checkIn({
            MessageType: 'TokenUpdate',
            Topic: topic,
            Token: Buffer.from('cd', 'hex'),
            PushMagic: 'n',
          })
        ).status,
        200,
      )
      // An administrator forces a new sign-in: refreshing no longer works, the person signs in again.
      const id = (device.mdmPayload().CheckInURL as string).split('/').at(-2)!
      const revoked = await admin(server, 'POST', `/tenants/${oauth}/apple/enrollments/${id}/revoke-tokens`)
      assert.deepEqual(revoked.body, { enrollment_id: id, revoked: true })
      const forced = await device.connect({ Status: 'Idle' })
      assert.equal(forced.status, 401)
      const again = parseChallenge(forced.headers.get('www-authenticate')!)
      await assert.rejects(device.refreshOAuth2(), /invalid_grant/)
      const redirect = await logIn(new Browser(server.url), device.oauth2AuthorizationURL(again), credentials)
      await device.acceptOAuth2Redirect(redirect.toString(), issuer)
      assert.equal((await device.connect({ Status: 'Idle' })).status, 200)
      // And the new sign-in's refresh token refreshes silently too.
      await device.refreshOAuth2()
      assert.equal(
        (await device.checkIn({ MessageType: 'Authenticate', Topic: topic, SerialNumber: 'DMPXK0ABCDEF' }))
          .status,
        200,
      )
      const { body } = await admin(server, 'GET', `/tenants/${oauth}/apple/enrollments/${id}`)
      assert.equal(body.status, 'enrolled')
    })

    it('refuses a token the Apple client did not get, and one from another tenant', async () => {
      const { server: found } = await device.discover(server.url)
      const { grant } = await signedInPerson(server.services, oauth, `dave@${oauthDomain}`, {
        clientId: 'web-shop',
      })
      const webShop = await oauthAccessToken(server.services, oauth, grant)
      const { grant: foreign } = await signedInPerson(server.services, simple, `erin@${simpleDomain}`)
      const otherTenant = await oauthAccessToken(server.services, simple, foreign)
      const before = await enrollments(oauth)
      for (const token of [webShop, otherTenant, 'not-a-token']) {
        const response = await device.postEnrollment(found!.BaseURL, { token })
        assert.equal(response.status, 401)
        assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer method="apple-oauth2", /)
      }
      assert.equal(await enrollments(oauth), before)
    })
  })

  describe('bad enrollment requests', () => {
    it('get a 4xx and leave nothing behind', async () => {
      const email = `frank@${simpleDomain}`
      const device = iPhone(email)
      const { server: found } = await device.discover(server.url)
      const token = await signInDevice(server, simple, email, device)
      const pki = await testDevicePKI()
      const tampered = readAppleFixture()
      tampered[tampered.indexOf(Buffer.from('ja-JP'))] = 'k'.charCodeAt(0)
      const cases: [string, { body?: Buffer; contentType?: string }, number][] = [
        ['a tampered body', { body: tampered }, 403],
        [
          'an unsigned CMS message',
          {
            body: await signedMessage(
              machineInfoPlist({ PRODUCT: 'iPhone12,1', VERSION: '19H12' }),
              undefined,
            ),
          },
          400,
        ],
        [
          'a bare property list',
          { body: machineInfoPlist({ PRODUCT: 'iPhone12,1', VERSION: '19H12' }) },
          400,
        ],
        [
          'a malformed property list',
          {
            body: await signedMessage(Buffer.from('<plist><dict><key>PRODUCT</key>'), pki.device, [
              pki.device,
            ]),
          },
          400,
        ],
        [
          'no MachineInfo keys',
          { body: await signedMessage(machineInfoPlist({ LANGUAGE: 'en' }), pki.device, [pki.device]) },
          400,
        ],
        ['garbage', { body: Buffer.from('hello') }, 400],
        ['JSON', { body: readAppleFixture(), contentType: 'application/json' }, 415],
      ]
      const before = await enrollments(simple)
      for (const [name, options, status] of cases) {
        for (const bearer of [undefined, token]) {
          const response = await device.postEnrollment(found!.BaseURL, {
            ...options,
            ...(bearer && { token: bearer }),
          })
          assert.equal(
            response.status,
            status,
            `${name} (${bearer ? 'with' : 'without'} a token): ${response.body}`,
          )
          assert.equal(typeof JSON.parse(response.body.toString()).error, 'string', name)
        }
      }
      assert.equal(await enrollments(simple), before)
    })

    it('refuse people without an account at a managed domain, and anonymous tokens', async () => {
      const device = iPhone()
      const { server: found } = await device.discover(server.url)
      const { grant } = await signedInPerson(server.services, simple, 'grace@elsewhere.example')
      const tenant = await server.services.tenants.get(simple)
      await assert.rejects(server.services.apple.enrollments.completeSignIn(tenant, grant), {
        code: 'forbidden',
      })
      const { token } = await server.services.tokens.issueAccessToken(tenant, {
        subject: grant.profileId,
        audience: 'apple-mdm',
        clientId: grant.clientId,
        scope: 'mdm',
        sid: grant.id,
        ttl: 300,
      })
      const before = await enrollments(simple)
      const response = await device.postEnrollment(found!.BaseURL, { token })
      assert.equal(response.status, 403)
      const anonymous = await server.services.devices.enrollAnonymous(tenant, {
        clientId: 'apple-enrollment',
        jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs',
        authenticationMode: 'no',
        hardwareKey: false,
        scope: '',
        amr: ['anon'],
      })
      const anonymousToken = await server.services.tokens.issueAccessToken(tenant, {
        subject: anonymous.grant.profileId,
        audience: 'apple-mdm',
        clientId: 'apple-enrollment',
        scope: '',
        sid: anonymous.grant.id,
        ttl: 300,
      })
      assert.equal((await device.postEnrollment(found!.BaseURL, { token: anonymousToken.token })).status, 401)
      assert.equal(await enrollments(simple), before)
    })

    it('are refused for a tenant without Apple enrollment, and for a type it does not offer', async () => {
      const device = iPhone()
      const unconfigured = await device.postEnrollment(`${server.issuer('demo')}/apple/enroll/byod`)
      assert.equal(unconfigured.status, 404)
      const adde = await device.postEnrollment(`${server.issuer(oauth)}/apple/enroll/byod`)
      assert.equal(adde.status, 200 === adde.status ? -1 : adde.status, 'oauth offers byod for iPhone')
    })
  })

  describe('the simple method’s sign-in page', () => {
    it('hands over to the hosted login with the Apple client, PKCE and the user identifier', async () => {
      const user = `alice@${simpleDomain}`
      const response = await fetch(
        `${server.issuer(simple)}/apple/login?user-identifier=${encodeURIComponent(user)}`,
        {
          redirect: 'manual',
        },
      )
      assert.equal(response.status, 303)
      const location = new URL(response.headers.get('location')!)
      assert.equal(`${location.origin}${location.pathname}`, `${server.issuer(simple)}/authorize`)
      const params = Object.fromEntries(location.searchParams)
      assert.deepEqual(
        { ...params, state: '', code_challenge: '' },
        {
          response_type: 'code',
          client_id: 'apple-enrollment',
          redirect_uri: `${server.issuer(simple)}/apple/login/callback`,
          scope: 'mdm',
          state: '',
          code_challenge: '',
          code_challenge_method: 'S256',
          login_hint: user,
        },
      )
      assert.match(params.code_challenge!, /^[A-Za-z0-9_-]{43}$/)
    })

    it('ends a hosted-login sign-in with the 308 that hands the token to the device', async () => {
      const email = `heidi@${simpleDomain}`
      const device = iPhone(email)
      const { server: found } = await device.discover(server.url)
      const challenge = parseChallenge(
        (await device.postEnrollment(found!.BaseURL)).headers.get('www-authenticate')!,
      )
      // The device opens the challenge's URL with its user identifier, in a web view.
      const webAuthURL = new URL(challenge.params.url!)
      webAuthURL.searchParams.set('user-identifier', email)
      const browser = new Browser(server.url)
      const signIn = await browser.navigate(webAuthURL.toString())
      assert.equal(signIn.status, 200, signIn.body)
      const signUp = await browser.navigate(`${signIn.url}/sign-up`)
      const done = await browser.submit(signUp, '/login/sign-up', {
        email,
        password: 'correct horse battery staple 42',
      })
      assert.equal(done.status, 308, done.body)
      device.acceptAuthenticationResult(done.headers.get('location')!)
      device.acceptProfile(await device.postEnrollment(found!.BaseURL, { token: device.accessToken }))
      assert.equal(device.mdmPayload().AssignedManagedAppleID, email)
      assert.equal((await device.checkIn({ MessageType: 'Authenticate', Topic: topic })).status, 200)
      // The callback takes each sign-in once.
      const again = await browser.request(done.url)
      assert.equal(again.status, 400)
    })

    it('refuses identifiers of other domains, and callbacks it did not start', async () => {
      const other = await fetch(`${server.issuer(simple)}/apple/login?user-identifier=bob@${oauthDomain}`, {
        redirect: 'manual',
      })
      assert.equal(other.status, 403)
      const missing = await fetch(`${server.issuer(simple)}/apple/login`, { redirect: 'manual' })
      assert.equal(missing.status, 400)
      const callback = await fetch(`${server.issuer(simple)}/apple/login/callback?code=x&state=unknown`, {
        redirect: 'manual',
      })
      assert.equal(callback.status, 400)
    })
  })
})
