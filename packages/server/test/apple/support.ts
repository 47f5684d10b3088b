import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { timeOrderedId } from '../../src/crypto/secrets.ts'
import type { Services } from '../../src/domain/services.ts'
import type { Grant } from '../../src/store/grant-store.ts'
import type { Stores } from '../../src/store/stores.ts'
import type { TestServer } from '../support/server.ts'
import { DeviceEmulator } from './device-emulator.ts'

/** The real device's signed first POST body (see `shared/fixtures/apple/README.md`). */
export const fixtureName = 'enroll-body-iphone12-1.der'

/**
 * The shared fixtures sit beside the repository (`{repo}/../shared`); `ONRAMP_APPLE_FIXTURES`
 * names another folder.
 */
export function readAppleFixture(name: string = fixtureName): Buffer {
  const candidates = [
    process.env.ONRAMP_APPLE_FIXTURES,
    join(repositoryRoot(), '..', 'shared', 'fixtures', 'apple'),
    fileURLToPath(new URL('../../../../../shared/fixtures/apple', import.meta.url)),
  ].filter((dir): dir is string => dir !== undefined)
  const found = candidates.map((dir) => join(dir, name)).find((path) => existsSync(path))
  assert.ok(found, `fixture ${name} not found in ${candidates.join(', ')}`)
  return readFileSync(found)
}

/** The folder of the workspace's root `package.json` (the one with `workspaces`). */
function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const manifest = join(dir, 'package.json')
    if (existsSync(manifest) && 'workspaces' in JSON.parse(readFileSync(manifest, 'utf8'))) return dir
    const parent = dirname(dir)
    assert.notEqual(parent, dir, 'no workspace root above the tests')
    dir = parent
  }
}

/** Calls the admin API of a test server. */
export async function admin(
  server: { url: string; adminToken: string },
  method: string,
  path: string,
  body?: unknown,
  // biome-ignore lint/suspicious/noExplicitAny: tests read response fields freely and assert on them
): Promise<{ status: number; body: any }> {
  const response = await fetch(`${server.url}/admin/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${server.adminToken}`,
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  })
  const text = await response.text()
  return { status: response.status, body: text ? JSON.parse(text) : undefined }
}

/**
 * What the hosted login leaves behind when a person signs in for Apple enrollment: an identified
 * profile with its identity (a local account's address; the same profile when the address signed
 * in before) and a new token family of the tenant's Apple client. Stands in for the hosted login
 * in tests of the enrollment protocol.
 */
export async function signedInPerson(
  services: Services,
  tenantId: string,
  email: string,
  options: { clientId?: string } = {},
): Promise<{ profileId: string; grant: Grant }> {
  const now = services.clock.now()
  const tenant = await services.tenants.get(tenantId)
  const known = await services.store.identities.find(tenantId, 'local', email)
  const profileId = known?.profileId ?? timeOrderedId()
  const grant: Grant = {
    id: timeOrderedId(),
    tenantId,
    profileId,
    clientId: options.clientId ?? 'apple-enrollment',
    deviceId: undefined,
    jkt: undefined,
    scope: 'mdm',
    acr: '1',
    amr: ['pwd'],
    createdAt: now,
    expiresAt: now + tenant.settings.refreshTokenAbsoluteTtl,
    revokedAt: undefined,
    revokedReason: undefined,
  }
  await services.store.transaction(async (stores) => {
    if (!known) await createPerson(stores, tenantId, profileId, email, now)
    await stores.grants.create(grant)
  })
  return { profileId, grant }
}

async function createPerson(
  stores: Stores,
  tenantId: string,
  profileId: string,
  email: string,
  now: number,
): Promise<void> {
  await stores.profiles.create({
    id: profileId,
    tenantId,
    kind: 'identified',
    createdAt: now,
    lastActiveAt: now,
    attachedAt: undefined,
  })
  await stores.identities.createIfAbsent({
    id: timeOrderedId(),
    tenantId,
    provider: 'local',
    subject: email,
    profileId,
    createdAt: now,
  })
}

/** An access token of the tenant for the issuer, as the token endpoint gives the Apple client (OAuth 2 method). */
export async function oauthAccessToken(services: Services, tenantId: string, grant: Grant): Promise<string> {
  const tenant = await services.tenants.get(tenantId)
  const { token } = await services.tokens.issueAccessToken(tenant, {
    subject: grant.profileId,
    audience: services.tokens.issuer(tenantId),
    clientId: grant.clientId,
    scope: grant.scope,
    acr: grant.acr,
    amr: grant.amr,
    sid: grant.id,
    ttl: tenant.settings.accessTokenTtl,
  })
  return token
}

/** The simple method's sign-in, ended by the completion the hosted login calls; returns the device's token. */
export async function signInDevice(
  server: TestServer,
  tenant: string,
  email: string,
  device: DeviceEmulator,
): Promise<string> {
  const { grant } = await signedInPerson(server.services, tenant, email)
  const { location } = await server.services.apple.enrollments.completeSignIn(
    await server.services.tenants.get(tenant),
    grant,
  )
  return device.acceptAuthenticationResult(location)
}

/** Discovery, the first POST's challenge, the sign-in and the profile; returns the enrollment id. */
export async function enrollDevice(
  server: TestServer,
  device: DeviceEmulator,
  tenant: string,
  email: string,
): Promise<string> {
  const { server: found } = await device.discover(server.url)
  assert.ok(found)
  const challenge = await device.postEnrollment(found.BaseURL)
  assert.equal(challenge.status, 401)
  await signInDevice(server, tenant, email, device)
  device.acceptProfile(await device.postEnrollment(found.BaseURL, { token: device.accessToken }))
  return (device.mdmPayload().CheckInURL as string).split('/').at(-2)!
}

/** Configures Apple enrollment for a new tenant: its managed domain and topic, identities from Onramp's CA (EC). */
export async function appleTenant(
  server: TestServer,
  tenant: string,
  settings: { domain: string; topic: string },
): Promise<void> {
  await server.services.tenants.create({ id: tenant })
  const configured = await admin(server, 'PUT', `/tenants/${tenant}/apple`, {
    managed_domains: [settings.domain],
    apns_topic: settings.topic,
    identity: { type: 'pkcs12', key_type: 'ec' },
  })
  assert.equal(configured.status, 200, JSON.stringify(configured.body))
}

/** An iPhone of the person's, to enroll as a user enrollment, with the real device's MachineInfo. */
export function personalIPhone(email: string): DeviceEmulator {
  return new DeviceEmulator({
    userIdentifier: email,
    modelFamily: 'iPhone',
    machineInfo: readAppleFixture(),
    identifiers: { EnrollmentID: `ENR-${timeOrderedId()}` },
  })
}
