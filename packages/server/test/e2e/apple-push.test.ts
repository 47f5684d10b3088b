import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createSecureServer, type Http2SecureServer, type IncomingHttpHeaders } from 'node:http2'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { TLSSocket } from 'node:tls'
import { ApnsPushNotifier } from '../../src/apple/push-notifier.ts'
import { timeOrderedId } from '../../src/crypto/secrets.ts'
import type { DeviceEmulator } from '../apple/device-emulator.ts'
import { admin, appleTenant, enrollDevice, personalIPhone } from '../apple/support.ts'
import { issue, privateKeyPEM, pushCertificate } from '../apple/test-pki.ts'
import { startTestServer, type TestServer } from '../support/server.ts'

/** What the APNs stand-in received: one push. */
interface ReceivedPush {
  headers: IncomingHttpHeaders
  body: string
  /** The `UID` of the client certificate the push came with. */
  clientTopic: string | undefined
}

/**
 * A stand-in for APNs: HTTP/2 over TLS on 127.0.0.1, asking for a client certificate issued by
 * the push certificates it is given (self-signed here, as Apple's are issued by its own CA), and
 * answering each push as `answer` says.
 */
class ApnsStandIn {
  readonly received: ReceivedPush[] = []
  answer: { status: number; reason?: string } = { status: 200 }
  readonly #server: Http2SecureServer

  constructor(options: { key: string; cert: string; clientCAs: string[] }) {
    this.#server = createSecureServer({
      key: options.key,
      cert: options.cert,
      ca: options.clientCAs,
      requestCert: true,
      rejectUnauthorized: true,
    })
    this.#server.on('stream', (stream, headers) => {
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      stream.on('end', () => {
        const socket = stream.session?.socket as TLSSocket | undefined
        const subject = socket?.getPeerCertificate().subject as Record<string, string> | undefined
        this.received.push({ headers, body: Buffer.concat(chunks).toString(), clientTopic: subject?.UID })
        const { status, reason } = this.answer
        stream.respond({ ':status': status, 'apns-id': randomUUID().toUpperCase() })
        stream.end(reason ? JSON.stringify({ reason }) : undefined)
      })
    })
  }

  listen(): Promise<number> {
    return new Promise((resolve) => {
      this.#server.listen(0, '127.0.0.1', () => resolve((this.#server.address() as { port: number }).port))
    })
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()))
  }
}

describe('Apple push over APNs', () => {
  const run = timeOrderedId().slice(-6)
  const tenant = `apple-push-${run}`
  const domain = `initech-${run}.example`
  const pushUUID = randomUUID()
  const topic = `com.apple.mgmt.External.${pushUUID}`
  const email = `peter@${domain}`
  const folder = mkdtempSync(join(tmpdir(), 'onramp-apns-'))
  /** Certificates made with OpenSSL's command-line tool: the stand-in's, and push certificates. */
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: folder, stdio: 'pipe' })
  const read = (name: string) => readFileSync(join(folder, name), 'utf8')
  let standIn: ApnsStandIn
  let notifier: ApnsPushNotifier
  let server: TestServer
  let push: ReturnType<typeof pushCertificate>
  let other: ReturnType<typeof pushCertificate>
  let origins: { production: string; sandbox: string }
  let device: DeviceEmulator
  let enrollmentId: string

  /** The device's TokenUpdate check-in with a push token (hex); the server's status. */
  async function tokenUpdate(token: string): Promise<number> {
    const response = await device.checkIn({
      MessageType: 'TokenUpdate',
      Topic: topic,
      Token: Buffer.from(token, 'hex'),
      PushMagic: '5E2F3C0A-9B1D-4C7E-8F00-2D4B6A8C0E1F',
    })
    return response.status
  }

  before(async () => {
    push = pushCertificate(folder, 'push', pushUUID)
    other = pushCertificate(folder, 'other', randomUUID())
    openssl([
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout',
      'apns.key',
      '-out',
      'apns.crt',
    ])
    standIn = new ApnsStandIn({
      key: read('apns.key'),
      cert: read('apns.crt'),
      clientCAs: [push.certificate, other.certificate],
    })
    const port = await standIn.listen()
    // One stand-in for both environments; the authority a push names tells them apart.
    origins = { production: `https://localhost:${port}`, sandbox: `https://127.0.0.1:${port}` }
    notifier = new ApnsPushNotifier({ origins, ca: [read('apns.crt')] })
    server = await startTestServer({ edges: { push: notifier } })
    await appleTenant(server, tenant, { domain, topic })

    device = personalIPhone(email)
    enrollmentId = await enrollDevice(server, device, tenant, email)
    assert.equal((await device.checkIn({ MessageType: 'Authenticate', Topic: topic })).status, 200)
    assert.equal(await tokenUpdate('c0ffee00d15ea5e5'), 200)
  })

  after(async () => {
    notifier?.close()
    await server?.close()
    await standIn?.close()
    rmSync(folder, { recursive: true, force: true })
  })

  const queue = () =>
    admin(server, 'POST', `/tenants/${tenant}/apple/enrollments/${enrollmentId}/commands`, {
      RequestType: 'DeviceInformation',
      Queries: ['OSVersion'],
    })
  const setPush = (body: Record<string, unknown>) =>
    admin(server, 'PUT', `/tenants/${tenant}/apple/push-certificate`, body)

  it('sends no push while the tenant has no push certificate', async () => {
    const queued = await queue()
    assert.equal(queued.status, 201)
    assert.equal(standIn.received.length, 0)
  })

  it('refuses push certificates that are not the tenant’s, with nothing stored', async () => {
    const refusals: [string, Record<string, unknown>][] = [
      ['not PEM', { certificate: 'hello', private_key: push.privateKey }],
      ['another certificate’s key', { certificate: push.certificate, private_key: other.privateKey }],
      ['another topic', { certificate: other.certificate, private_key: other.privateKey }],
      ['a key that is not PEM', { certificate: push.certificate, private_key: 'hello' }],
      [
        'an unknown environment',
        { certificate: push.certificate, private_key: push.privateKey, environment: 'x' },
      ],
      ['no key', { certificate: push.certificate }],
    ]
    for (const [what, body] of refusals) {
      const response = await setPush(body)
      assert.equal(response.status, 400, `${what}: ${JSON.stringify(response.body)}`)
    }
    const expired = await issue(`APSP:${pushUUID}`, undefined, { ca: false, expired: true, uid: topic })
    const outdated = await setPush({ certificate: expired.pem, private_key: await privateKeyPEM(expired) })
    assert.equal(outdated.status, 400)
    assert.match(outdated.body.error_description, /expired/)
    const { body } = await admin(server, 'GET', `/tenants/${tenant}/apple`)
    assert.equal(body.push_certificate, undefined)
    const missing = await admin(server, 'PUT', `/tenants/no-such-tenant-${run}/apple/push-certificate`, {
      certificate: push.certificate,
      private_key: push.privateKey,
    })
    assert.equal(missing.status, 404)
  })

  it('pushes with the tenant’s certificate when a command is queued', async () => {
    const set = await setPush({ certificate: push.certificate, private_key: push.privateKey })
    assert.equal(set.status, 200, JSON.stringify(set.body))
    assert.equal(set.body.push_certificate.topic, topic)
    assert.equal(set.body.push_certificate.environment, 'production')
    assert.match(set.body.push_certificate.serial_number, /^[0-9a-f]+$/)
    assert.ok(set.body.push_certificate.not_after > Date.now() / 1000)
    assert.doesNotMatch(JSON.stringify(set.body), /PRIVATE KEY/)
    const stored = await server.services.store.appleConfigs.get(tenant)
    assert.doesNotMatch(stored!.push!.sealedPrivateKey, /PRIVATE KEY/, 'the key is sealed at rest')

    assert.equal((await queue()).status, 201)
    assert.equal(standIn.received.length, 1)
    const [received] = standIn.received
    assert.equal(received!.headers[':method'], 'POST')
    assert.equal(received!.headers[':path'], '/3/device/c0ffee00d15ea5e5')
    assert.equal(received!.headers[':authority'], new URL(origins.production).host)
    assert.equal(received!.headers['apns-topic'], topic)
    assert.equal(received!.headers['apns-push-type'], 'mdm')
    assert.equal(received!.headers['apns-priority'], '10')
    assert.deepEqual(JSON.parse(received!.body), { mdm: '5E2F3C0A-9B1D-4C7E-8F00-2D4B6A8C0E1F' })
    assert.equal(received!.clientTopic, topic, 'the push came with the tenant’s push certificate')
  })

  it('keeps the command when APNs refuses the push or cannot be reached', async () => {
    standIn.answer = { status: 400, reason: 'BadDeviceToken' }
    assert.equal((await queue()).status, 201)
    assert.equal(standIn.received.length, 2)
    const warnings: object[] = []
    const log = { info: () => {}, warn: (fields: object) => warnings.push(fields) }
    const unreachable = new ApnsPushNotifier({
      origins: { production: 'https://127.0.0.1:1', sandbox: 'https://127.0.0.1:1' },
    })
    const credentials = server.services.apple.configs.pushCredentials(
      await server.services.apple.configs.get(tenant),
    )
    const outcome = await unreachable.notify(
      { topic, token: 'c0ffee00', magic: 'M' },
      { tenantId: tenant, enrollmentId, credentials, log },
    )
    unreachable.close()
    assert.equal(outcome, 'failed')
    assert.equal(warnings.length, 1, 'a failed delivery is logged, not thrown')
    const idle = await device.connect({ Status: 'Idle' })
    assert.equal(idle.status, 200)
    assert.ok(idle.body.length > 0, 'the device still gets its commands when it checks in')
    const enrollment = await admin(server, 'GET', `/tenants/${tenant}/apple/enrollments/${enrollmentId}`)
    assert.equal(enrollment.body.push_topic, topic, 'a refusal other than 410 keeps the token')
  })

  it('forgets a token APNs no longer takes, until the device sends a new one', async () => {
    standIn.answer = { status: 410, reason: 'Unregistered' }
    assert.equal((await queue()).status, 201)
    standIn.answer = { status: 200 }
    const forgotten = await admin(server, 'GET', `/tenants/${tenant}/apple/enrollments/${enrollmentId}`)
    assert.equal(forgotten.body.push_topic, undefined)
    const pushes = standIn.received.length
    assert.equal((await queue()).status, 201)
    assert.equal(standIn.received.length, pushes, 'no push to a forgotten token')

    assert.equal(await tokenUpdate('c0ffee00d15ea5e6'), 200)
    assert.equal((await queue()).status, 201)
    assert.equal(standIn.received.at(-1)!.headers[':path'], '/3/device/c0ffee00d15ea5e6')
  })

  it('uses the sandbox for a development certificate', async () => {
    const set = await setPush({
      certificate: push.certificate,
      private_key: push.privateKey,
      environment: 'sandbox',
    })
    assert.equal(set.body.push_certificate.environment, 'sandbox')
    assert.equal((await queue()).status, 201)
    assert.equal(standIn.received.at(-1)!.headers[':authority'], new URL(origins.sandbox).host)
  })

  it('refuses a new APNs topic while the push certificate is for the old one', async () => {
    const changed = await admin(server, 'PUT', `/tenants/${tenant}/apple`, {
      managed_domains: [domain],
      apns_topic: `com.apple.mgmt.External.${randomUUID()}`,
      identity: { type: 'pkcs12', key_type: 'ec' },
    })
    assert.equal(changed.status, 409, JSON.stringify(changed.body))
    assert.equal((await admin(server, 'GET', `/tenants/${tenant}/apple`)).body.apns_topic, topic)
  })

  it('stops pushing once the certificate is removed', async () => {
    const removed = await admin(server, 'DELETE', `/tenants/${tenant}/apple/push-certificate`)
    assert.equal(removed.status, 200)
    assert.equal(removed.body.push_certificate, undefined)
    const before = standIn.received.length
    assert.equal((await queue()).status, 201)
    assert.equal(standIn.received.length, before)
  })
})
