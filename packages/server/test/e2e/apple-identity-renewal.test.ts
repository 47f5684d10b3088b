import assert from 'node:assert/strict'
import { createHash, randomUUID, X509Certificate } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { parse } from 'plist'
import { identityRenewalWindow } from '../../src/apple/apple-mdm-manager.ts'
import { timeOrderedId } from '../../src/crypto/secrets.ts'
import type { DeviceEmulator, DeviceResponse } from '../apple/device-emulator.ts'
import { admin, appleTenant, enrollDevice, personalIPhone } from '../apple/support.ts'
import { startTestServer, type TestServer } from '../support/server.ts'

type Dict = Record<string, unknown>

describe('Apple device identities renewed in place', () => {
  const run = timeOrderedId().slice(-6)
  const tenant = `apple-renewal-${run}`
  const domain = `umbrella-${run}.example`
  const topic = `com.apple.mgmt.External.${randomUUID()}`
  const email = `ada@${domain}`
  let server: TestServer
  let device: DeviceEmulator
  let enrollmentId: string

  const enrollment = async () =>
    (await admin(server, 'GET', `/tenants/${tenant}/apple/enrollments/${enrollmentId}`)).body
  const renew = () =>
    admin(server, 'POST', `/tenants/${tenant}/apple/enrollments/${enrollmentId}/renew-identity`)
  const fingerprint = (identity: DeviceEmulator['identity']) =>
    createHash('sha256')
      .update(Buffer.from(identity!.certificate.toSchema(true).toBER(false)))
      .digest('hex')
  /** The command a server answer carries, as the device reads it. */
  const commandOf = (answer: DeviceResponse): { CommandUUID: string; Command: Dict } => {
    assert.equal(answer.status, 200, answer.body.toString())
    assert.ok(answer.body.length > 0, 'no command')
    return parse(answer.body.toString()) as { CommandUUID: string; Command: Dict }
  }
  /** Moves the device identity's recorded expiry, as time passing would. */
  async function expireIn(seconds: number): Promise<void> {
    const current = await server.services.store.appleEnrollments.get(tenant, enrollmentId)
    const now = server.services.clock.now()
    await server.services.store.appleEnrollments.update(
      tenant,
      enrollmentId,
      {
        identity: {
          serial: current!.identitySerial!,
          sha256: current!.identitySHA256!,
          notAfter: now + seconds,
        },
      },
      now,
    )
  }

  before(async () => {
    server = await startTestServer()
    await appleTenant(server, tenant, { domain, topic })
    device = personalIPhone(email)
    enrollmentId = await enrollDevice(server, device, tenant, email)
    assert.equal((await device.checkIn({ MessageType: 'Authenticate', Topic: topic })).status, 200)
  })

  after(async () => {
    await server?.close()
  })

  it('an administrator’s renewal installs a new identity with the same profile', async () => {
    const before = await enrollment()
    const installed = device.profile!
    const queued = await renew()
    assert.equal(queued.status, 201, JSON.stringify(queued.body))
    assert.equal(queued.body.request_type, 'InstallProfile')
    const pending = await enrollment()
    assert.equal(pending.identity_renewal.command_uuid, queued.body.command_uuid)
    assert.notEqual(pending.identity_renewal.sha256, before.identity_sha256)
    assert.equal(
      pending.identity_sha256,
      before.identity_sha256,
      'the old identity stays until the device answers',
    )
    assert.equal((await renew()).status, 409, 'one renewal at a time')

    // The profile (and its private key) is neither in the stored command nor readable at rest.
    const listed = await admin(server, 'GET', `/tenants/${tenant}/apple/enrollments/${enrollmentId}/commands`)
    assert.doesNotMatch(JSON.stringify(listed.body), /Payload|PayloadContent/)
    const stored = await server.services.store.appleEnrollments.get(tenant, enrollmentId)
    assert.doesNotMatch(stored!.renewal!.sealedProfile, /plist|PayloadContent/)

    const sent = commandOf(await device.connect({ Status: 'Idle' }))
    assert.equal(sent.CommandUUID, queued.body.command_uuid)
    assert.equal(sent.Command.RequestType, 'InstallProfile')
    const profile = device.installProfile(sent.Command.Payload as Uint8Array)
    assert.equal(profile.PayloadIdentifier, installed.PayloadIdentifier)
    const [oldMdm, newMdm] = [installed, profile].map(
      (p) => (p.PayloadContent as Dict[]).find((payload) => payload.PayloadType === 'com.apple.mdm')!,
    )
    for (const key of ['PayloadIdentifier', 'ServerURL', 'CheckInURL', 'Topic', 'AssignedManagedAppleID'])
      assert.equal(newMdm![key], oldMdm![key], key)
    assert.equal(fingerprint(device.identity), pending.identity_renewal.sha256)
    assert.notEqual(fingerprint(device.identity), fingerprint(device.previousIdentity))

    const acknowledged = await device.connect({ Status: 'Acknowledged', CommandUUID: sent.CommandUUID })
    assert.equal(acknowledged.status, 200, acknowledged.body.toString())
    const renewed = await enrollment()
    assert.equal(renewed.identity_sha256, fingerprint(device.identity))
    assert.equal(renewed.identity_not_after, device.identity!.certificate.notAfter.value.getTime() / 1000)
    assert.equal(renewed.identity_renewal, undefined)
    const old = { signMessage: (body: Buffer) => device.signMessage(body, device.previousIdentity) }
    assert.equal(
      (await device.connect({ Status: 'Idle' }, { signedBy: old })).status,
      403,
      'the old identity',
    )
    assert.equal((await device.connect({ Status: 'Idle' })).status, 200)
  })

  it('renews on its own a device that connects near its identity’s expiry; a refusal ends that renewal', async () => {
    await expireIn(identityRenewalWindow + 3600)
    assert.equal((await device.connect({ Status: 'Idle' })).body.length, 0, 'not due yet')

    await expireIn(identityRenewalWindow - 3600)
    const first = commandOf(await device.connect({ Status: 'Idle' }))
    assert.equal(first.Command.RequestType, 'InstallProfile')
    assert.equal((await enrollment()).identity_renewal.command_uuid, first.CommandUUID)
    const refused = await device.connect({ Status: 'Error', CommandUUID: first.CommandUUID, ErrorChain: [] })
    assert.equal(refused.status, 200)
    const ended = await enrollment()
    assert.equal(ended.identity_renewal, undefined, 'the refused renewal ends')

    // Still due: the next connection starts another; a message signed with it completes it.
    const second = commandOf(await device.connect({ Status: 'Idle' }))
    assert.notEqual(second.CommandUUID, first.CommandUUID)
    device.installProfile(second.Command.Payload as Uint8Array)
    const checkIn = await device.checkIn({ MessageType: 'Authenticate', Topic: topic })
    assert.equal(checkIn.status, 200, checkIn.body.toString())
    const renewed = await enrollment()
    assert.equal(renewed.identity_sha256, fingerprint(device.identity))
    assert.equal(renewed.identity_renewal, undefined)
    assert.ok(renewed.identity_not_after - server.services.clock.now() > identityRenewalWindow)
    const commands = await admin(
      server,
      'GET',
      `/tenants/${tenant}/apple/enrollments/${enrollmentId}/commands`,
    )
    const statuses = Object.fromEntries(
      commands.body.commands.map((c: { command_uuid: string; status: string }) => [c.command_uuid, c.status]),
    )
    assert.equal(statuses[first.CommandUUID], 'Error')
    assert.equal(statuses[second.CommandUUID], 'Acknowledged', 'installed, as the new signature shows')
    assert.equal((await device.connect({ Status: 'Idle' })).body.length, 0, 'nothing more to renew')
  })

  it('a rotated device CA issues the next identities; those issued before keep working', async () => {
    const before = (await admin(server, 'GET', `/tenants/${tenant}/apple`)).body.ca_certificate as string
    const rotated = await admin(server, 'POST', `/tenants/${tenant}/apple/device-ca/rotate`)
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body))
    const after = rotated.body.ca_certificate as string
    assert.notEqual(after, before)
    assert.equal((await device.connect({ Status: 'Idle' })).status, 200, 'the identity from the old CA signs')
    assert.equal((await renew()).status, 201)
    const sent = commandOf(await device.connect({ Status: 'Idle' }))
    device.installProfile(sent.Command.Payload as Uint8Array)
    const identity = new X509Certificate(
      Buffer.from(device.identity!.certificate.toSchema(true).toBER(false)),
    )
    assert.ok(identity.verify(new X509Certificate(after).publicKey), 'issued by the new CA')
    assert.ok(!identity.verify(new X509Certificate(before).publicKey))
    const acknowledged = await device.connect({ Status: 'Acknowledged', CommandUUID: sent.CommandUUID })
    assert.equal(acknowledged.status, 200)
    assert.equal((await enrollment()).identity_sha256, fingerprint(device.identity))
  })

  it('takes nothing but CheckOut signed with an expired identity', async () => {
    await expireIn(-60)
    const authenticate = await device.checkIn({ MessageType: 'Authenticate', Topic: topic })
    assert.equal(authenticate.status, 403)
    assert.match(authenticate.body.toString(), /expired/)
    assert.equal((await device.connect({ Status: 'Idle' })).status, 403)
    assert.equal((await enrollment()).identity_renewal, undefined, 'no renewal for a refused message')
    assert.equal((await device.checkIn({ MessageType: 'CheckOut', Topic: topic })).status, 200)
    assert.equal((await enrollment()).status, 'checked_out')
    assert.equal((await renew()).status, 409, 'a device that left is not renewed')
    const unknown = await admin(
      server,
      'POST',
      `/tenants/${tenant}/apple/enrollments/${timeOrderedId()}/renew-identity`,
    )
    assert.equal(unknown.status, 404)
  })
})
