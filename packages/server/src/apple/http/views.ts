import { X509Certificate } from 'node:crypto'
import { type Static, Type } from '@sinclair/typebox'
import type { AppleCommand } from '../apple-command-store.ts'
import { appleURLs, pushTopicOf } from '../apple-config-manager.ts'
import type { AppleConfig, ApplePushCertificate } from '../apple-config-store.ts'
import type { AppleEnrollment } from '../apple-enrollment-store.ts'
import { parsePlistDict, plistToJSON } from '../plist-values.ts'
import { profileSigningChain } from '../profile-signing.ts'

/**
 * What the admin API (and `onramp apple … --json`) shows of Apple enrollment, snake_case, times
 * in seconds since the epoch. As response schemas they keep the CA's sealed key and the push and
 * profile-signing keys out of every response.
 */

const Timestamp = Type.Integer({ description: 'seconds since the epoch' })
const AnyObject = Type.Record(Type.String(), Type.Unknown())

export const AppleConfigView = Type.Object({
  managed_domains: Type.Array(Type.String()),
  enrollment_types: Type.Record(Type.String(), Type.String()),
  authentication_method: Type.String(),
  client_id: Type.String(),
  apns_topic: Type.String(),
  organization: Type.Optional(Type.String()),
  access_rights: Type.Integer(),
  enrollment_sso: Type.Optional(AnyObject),
  enrollment_sso_developer: Type.Optional(AnyObject),
  identity: Type.Object({
    type: Type.String(),
    key_type: Type.Optional(Type.String()),
    payload: Type.Optional(AnyObject),
  }),
  device_trust_anchors: Type.Array(Type.String()),
  /** The device CA's certificate (PEM), with the PKCS #12 identity. */
  ca_certificate: Type.Optional(Type.String()),
  /** The MDM push certificate, once one is set: never its key. */
  push_certificate: Type.Optional(
    Type.Object({
      topic: Type.String(),
      environment: Type.String(),
      serial_number: Type.String(),
      not_after: Timestamp,
    }),
  ),
  /** The certificate enrollment profiles are signed with, once one is set: never its key. */
  profile_signing_certificate: Type.Optional(
    Type.Object({
      subject: Type.String(),
      issuer: Type.String(),
      serial_number: Type.String(),
      not_after: Timestamp,
      /** How many certificates the profiles carry: the signer's and its intermediates. */
      chain_length: Type.Integer(),
    }),
  ),
  /** Where devices go: the enrollment URL per type, the sign-in page, Enrollment SSO documents. */
  endpoints: Type.Object({
    well_known: Type.String(),
    enroll: Type.Record(Type.String(), Type.String()),
    sign_in: Type.String(),
    enrollment_sso: Type.Optional(Type.String()),
    enrollment_sso_developer: Type.Optional(Type.String()),
  }),
  created_at: Timestamp,
  updated_at: Timestamp,
})

export function appleConfigView(
  config: AppleConfig,
  urls: { publicUrl: string; issuer: string },
): Static<typeof AppleConfigView> {
  const { settings } = config
  const endpoints = appleURLs(urls.issuer)
  const identity = settings.identity
  return {
    managed_domains: settings.managedDomains,
    enrollment_types: settings.enrollmentTypes,
    authentication_method: settings.authenticationMethod,
    client_id: settings.clientId,
    apns_topic: settings.topic,
    ...(settings.organization !== undefined && { organization: settings.organization }),
    access_rights: settings.accessRights,
    ...(settings.enrollmentSSO && { enrollment_sso: { ...settings.enrollmentSSO } }),
    ...(settings.enrollmentSSODeveloper && {
      enrollment_sso_developer: { ...settings.enrollmentSSODeveloper },
    }),
    identity:
      identity.type === 'pkcs12'
        ? { type: identity.type, key_type: identity.keyType }
        : { type: identity.type, payload: plistToJSON(identity.payload) as Record<string, unknown> },
    device_trust_anchors: settings.deviceTrustAnchors,
    ...(identity.type === 'pkcs12' && config.ca && { ca_certificate: config.ca.certificatePEM }),
    ...(config.push && { push_certificate: pushCertificateView(config.push) }),
    ...(config.profileSigning && {
      profile_signing_certificate: profileSigningView(profileSigningChain(config.profileSigning.chainPEM)),
    }),
    endpoints: {
      well_known: `${urls.publicUrl}/.well-known/com.apple.remotemanagement`,
      enroll: { 'mdm-byod': endpoints.enroll('mdm-byod'), 'mdm-adde': endpoints.enroll('mdm-adde') },
      sign_in: endpoints.login,
      ...(settings.enrollmentSSO && { enrollment_sso: endpoints.enrollmentSSO }),
      ...(settings.enrollmentSSODeveloper && { enrollment_sso_developer: endpoints.enrollmentSSODeveloper }),
    },
    created_at: config.createdAt,
    updated_at: config.updatedAt,
  }
}

function pushCertificateView(push: ApplePushCertificate) {
  const certificate = new X509Certificate(push.certificatePEM)
  return {
    topic: pushTopicOf(certificate) ?? '',
    environment: push.environment,
    serial_number: certificate.serialNumber.toLowerCase(),
    not_after: Math.floor(certificate.validToDate.getTime() / 1000),
  }
}

function profileSigningView(chain: X509Certificate[]) {
  const signer = chain[0]!
  return {
    subject: signer.subject,
    issuer: signer.issuer,
    serial_number: signer.serialNumber.toLowerCase(),
    not_after: Math.floor(signer.validToDate.getTime() / 1000),
    chain_length: chain.length,
  }
}

export const AppleEnrollmentView = Type.Object({
  enrollment_id: Type.String(),
  profile_id: Type.String(),
  enrollment_type: Type.String(),
  managed_apple_id: Type.String(),
  status: Type.String(),
  device: Type.Object({
    udid: Type.Optional(Type.String()),
    /** Apple's `EnrollmentID` of a user enrollment. */
    apple_enrollment_id: Type.Optional(Type.String()),
    serial_number: Type.Optional(Type.String()),
    product: Type.Optional(Type.String()),
    os_build: Type.Optional(Type.String()),
    os_version: Type.Optional(Type.String()),
    language: Type.Optional(Type.String()),
  }),
  /** Set once the device sent `TokenUpdate`: it can be woken with a push on this topic. */
  push_topic: Type.Optional(Type.String()),
  identity_serial: Type.Optional(Type.String()),
  identity_sha256: Type.Optional(Type.String()),
  /** When the device's identity expires (unknown for enrollments recorded before it was kept). */
  identity_not_after: Type.Optional(Timestamp),
  /** A renewal under way: its `InstallProfile` command and the new identity; never the profile. */
  identity_renewal: Type.Optional(
    Type.Object({
      command_uuid: Type.String(),
      serial: Type.String(),
      sha256: Type.String(),
      not_after: Timestamp,
    }),
  ),
  /** Whether the device sent an `UnlockToken`, so that `ClearPasscode` can be sent; never the token. */
  unlock_token_escrowed: Type.Boolean(),
  created_at: Timestamp,
  updated_at: Timestamp,
  last_seen_at: Timestamp,
  checked_out_at: Type.Optional(Timestamp),
})

export function appleEnrollmentView(enrollment: AppleEnrollment): Static<typeof AppleEnrollmentView> {
  const { device } = enrollment
  const deviceView = {
    udid: device.udid,
    apple_enrollment_id: device.userEnrollmentId,
    serial_number: device.serialNumber,
    product: device.product,
    os_build: device.osBuild,
    os_version: device.osVersion,
    language: device.language,
  }
  return {
    enrollment_id: enrollment.id,
    profile_id: enrollment.profileId,
    enrollment_type: enrollment.enrollmentType,
    managed_apple_id: enrollment.managedAppleId,
    status: enrollment.status,
    device: Object.fromEntries(Object.entries(deviceView).filter(([, value]) => value !== undefined)),
    ...(enrollment.push && { push_topic: enrollment.push.topic }),
    ...(enrollment.identitySerial !== undefined && { identity_serial: enrollment.identitySerial }),
    ...(enrollment.identitySHA256 !== undefined && { identity_sha256: enrollment.identitySHA256 }),
    ...(enrollment.identityNotAfter !== undefined && { identity_not_after: enrollment.identityNotAfter }),
    ...(enrollment.renewal && {
      identity_renewal: {
        command_uuid: enrollment.renewal.commandUUID,
        serial: enrollment.renewal.serial,
        sha256: enrollment.renewal.sha256,
        not_after: enrollment.renewal.notAfter,
      },
    }),
    unlock_token_escrowed: enrollment.sealedUnlockToken !== undefined,
    created_at: enrollment.createdAt,
    updated_at: enrollment.updatedAt,
    last_seen_at: enrollment.lastSeenAt,
    ...(enrollment.checkedOutAt !== undefined && { checked_out_at: enrollment.checkedOutAt }),
  }
}

export const AppleEnrollmentPageView = Type.Object({
  enrollments: Type.Array(AppleEnrollmentView),
  /** The `after` of the next page; absent on the last page. */
  next: Type.Optional(Type.String()),
})

export const AppleCommandView = Type.Object({
  command_uuid: Type.String(),
  enrollment_id: Type.String(),
  request_type: Type.String(),
  /** The command dictionary; data values as `{"$data": base64}`. */
  command: AnyObject,
  status: Type.String(),
  /** The device's report, the same way. */
  result: Type.Optional(AnyObject),
  created_at: Timestamp,
  sent_at: Type.Optional(Timestamp),
  completed_at: Type.Optional(Timestamp),
})

export function appleCommandView(command: AppleCommand): Static<typeof AppleCommandView> {
  return {
    command_uuid: command.commandUUID,
    enrollment_id: command.enrollmentId,
    request_type: command.requestType,
    command: plistToJSON(command.command) as Record<string, unknown>,
    status: command.status,
    ...(command.result !== undefined && {
      result: plistToJSON(parsePlistDict(Buffer.from(command.result))) as Record<string, unknown>,
    }),
    created_at: command.createdAt,
    ...(command.sentAt !== undefined && { sent_at: command.sentAt }),
    ...(command.completedAt !== undefined && { completed_at: command.completedAt }),
  }
}
