import type { EnrollmentType } from './apple-settings.ts'

/**
 * Where an enrollment stands: its profile was handed out, the device checked in (`Authenticate`),
 * it is enrolled (`TokenUpdate`), or it left (`CheckOut`).
 */
export const AppleEnrollmentStatuses = ['profile_issued', 'authenticated', 'enrolled', 'checked_out'] as const
export type AppleEnrollmentStatus = (typeof AppleEnrollmentStatuses)[number]

/** What the device told us about itself, in its first request and its check-ins. */
export interface AppleDeviceFacts {
  /** Device enrollments only. */
  udid: string | undefined
  /** Apple's `EnrollmentID`: user enrollments have it instead of a UDID. */
  userEnrollmentId: string | undefined
  serialNumber: string | undefined
  product: string | undefined
  /** Build version (`VERSION`, `BuildVersion`). */
  osBuild: string | undefined
  osVersion: string | undefined
  language: string | undefined
}

/** Where to push: set by the device's `TokenUpdate`. */
export interface ApplePushTarget {
  topic: string
  /** Hexadecimal. */
  token: string
  magic: string
}

/** A device identity Onramp issued (PKCS #12): its certificate's serial, fingerprint and expiry. */
export interface AppleIdentityCertificate {
  /** Hexadecimal. */
  serial: string
  /** SHA-256 of the certificate (DER), hexadecimal. */
  sha256: string
  /** Seconds since the epoch. */
  notAfter: number
}

/** A new identity on its way to the device, in an `InstallProfile` command of the enrollment profile. */
export interface AppleIdentityRenewal extends AppleIdentityCertificate {
  commandUUID: string
  /**
   * The profile the command installs (Base64 of what the device gets), sealed with the master
   * key: its PKCS #12 holds the new identity's private key. Never shown.
   */
  sealedProfile: string
}

/** One device's enrollment of one person's account. */
export interface AppleEnrollment {
  id: string
  tenantId: string
  /** The signed-in person's profile. */
  profileId: string
  /** The token family the device's bearer tokens belong to; revoking it forces a new sign-in. */
  grantId: string
  enrollmentType: EnrollmentType
  managedAppleId: string
  status: AppleEnrollmentStatus
  device: AppleDeviceFacts
  push: ApplePushTarget | undefined
  /** Hexadecimal serial of the identity certificate issued with the profile (PKCS #12 only). */
  identitySerial: string | undefined
  /**
   * SHA-256 fingerprint (hexadecimal) of that certificate. When set, the profile asked the device
   * to sign its messages (`SignMessage`), and each check-in and server message must carry an
   * `Mdm-Signature` made with this certificate.
   */
  identitySHA256: string | undefined
  /** When that certificate expires; undefined for enrollments recorded before it was kept. */
  identityNotAfter: number | undefined
  /**
   * A renewal under way: until the device answers its command, or signs with the new identity,
   * messages signed with either identity are accepted.
   */
  renewal: AppleIdentityRenewal | undefined
  /**
   * The `UnlockToken` of a device enrollment's `TokenUpdate` (Base64), sealed with the master key:
   * what `ClearPasscode` needs. Never shown.
   */
  sealedUnlockToken: string | undefined
  createdAt: number
  updatedAt: number
  lastSeenAt: number
  checkedOutAt: number | undefined
}

export type AppleEnrollmentPatch = Partial<
  Pick<AppleEnrollment, 'grantId' | 'status' | 'lastSeenAt' | 'checkedOutAt' | 'sealedUnlockToken'>
> & {
  device?: Partial<AppleDeviceFacts>
  /** A new push target; null forgets it (APNs said the token is no longer valid). */
  push?: ApplePushTarget | null
  /** The identity the device now signs with. */
  identity?: AppleIdentityCertificate
  /** A renewal started; null ends it. */
  renewal?: AppleIdentityRenewal | null
}

export interface AppleEnrollmentStore {
  get(tenantId: string, id: string): Promise<AppleEnrollment | undefined>
  /** In id order (creation order), `limit` at most, after the id `after`. */
  list(
    tenantId: string,
    options?: { profileId?: string; limit?: number; after?: string },
  ): Promise<AppleEnrollment[]>
  create(enrollment: AppleEnrollment): Promise<void>
  /** Sets the given fields (and `updatedAt`); false if there is no such enrollment. */
  update(tenantId: string, id: string, patch: AppleEnrollmentPatch, at: number): Promise<boolean>
}
