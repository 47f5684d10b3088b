import { randomUUID } from 'node:crypto'
import type { EnrollmentType } from './apple-settings.ts'
import type { PlistDict } from './plist-values.ts'

/** What the profile's identity payload carries. */
export type ProfileIdentity =
  | { type: 'pkcs12'; pkcs12: Buffer; password: string }
  | { type: 'scep'; payload: PlistDict }
  | { type: 'acme'; payload: PlistDict }

export interface EnrollmentProfileInput {
  tenantId: string
  enrollmentId: string
  enrollmentType: EnrollmentType
  managedAppleId: string
  topic: string
  serverURL: string
  checkInURL: string
  /** Device enrollments only. */
  accessRights: number
  organization: string | undefined
  displayName: string
  identity: ProfileIdentity
}

/**
 * Per-user connections let macOS check in for the signed-in user too; we offer no bootstrap
 * token escrow and no `GetToken` services, so we do not claim those capabilities.
 */
const serverCapabilities = ['com.apple.mdm.per-user-connections']

/**
 * The configuration profile of an account-driven enrollment: an identity payload and the
 * `com.apple.mdm` payload with `EnrollmentMode` and `AssignedManagedAppleID`, which the device
 * requires, and `AccessRights` for device enrollments only (a user enrollment that declares access
 * rights is cancelled by the device). When Onramp issues the identity (PKCS #12), and so knows its
 * certificate, `SignMessage` makes the device sign every check-in and server message with it.
 */
export function buildEnrollmentProfile(input: EnrollmentProfileInput): PlistDict {
  const base = `onramp.${input.tenantId}.mdm`
  const identityUUID = randomUUID().toUpperCase()
  const mdm: PlistDict = {
    PayloadType: 'com.apple.mdm',
    PayloadVersion: 1,
    PayloadIdentifier: `${base}.mdm`,
    PayloadUUID: randomUUID().toUpperCase(),
    PayloadDisplayName: 'Device management',
    IdentityCertificateUUID: identityUUID,
    Topic: input.topic,
    ServerURL: input.serverURL,
    CheckInURL: input.checkInURL,
    CheckOutWhenRemoved: true,
    ServerCapabilities: serverCapabilities,
    ...(input.identity.type === 'pkcs12' && { SignMessage: true }),
    EnrollmentMode: input.enrollmentType === 'mdm-byod' ? 'BYOD' : 'ADDE',
    AssignedManagedAppleID: input.managedAppleId,
    ...(input.enrollmentType === 'mdm-adde' && { AccessRights: input.accessRights }),
  }
  return {
    PayloadType: 'Configuration',
    PayloadVersion: 1,
    PayloadIdentifier: base,
    PayloadUUID: randomUUID().toUpperCase(),
    PayloadDisplayName: input.displayName,
    ...(input.organization && { PayloadOrganization: input.organization }),
    PayloadContent: [identityPayload(input, base, identityUUID), mdm],
  }
}

function identityPayload(input: EnrollmentProfileInput, base: string, uuid: string): PlistDict {
  const common = { PayloadVersion: 1, PayloadIdentifier: `${base}.identity`, PayloadUUID: uuid }
  const identity = input.identity
  switch (identity.type) {
    case 'pkcs12':
      return {
        PayloadType: 'com.apple.security.pkcs12',
        ...common,
        PayloadDisplayName: 'Device identity',
        PayloadCertificateFileName: 'identity.p12',
        PayloadContent: identity.pkcs12,
        Password: identity.password,
      }
    case 'scep':
      return {
        PayloadType: 'com.apple.security.scep',
        ...common,
        PayloadDisplayName: 'Device identity (SCEP)',
        PayloadContent: identity.payload,
      }
    case 'acme':
      return {
        ClientIdentifier: input.enrollmentId,
        ...identity.payload,
        PayloadType: 'com.apple.security.acme',
        ...common,
        PayloadDisplayName: 'Device identity (ACME)',
      }
  }
}
