import { AppError } from '../errors/app-error.ts'
import type { Tenant } from '../store/tenant-store.ts'
import { type AppleConfigManager, appleURLs } from './apple-config-manager.ts'
import type { AppleConfig } from './apple-config-store.ts'
import type { AppleIdentityCertificate } from './apple-enrollment-store.ts'
import type { EnrollmentType } from './apple-settings.ts'
import { signContent } from './cms.ts'
import type { DeviceCertificateAuthority } from './device-ca.ts'
import { buildEnrollmentProfile, type ProfileIdentity } from './enrollment-profile.ts'
import { buildPlist } from './plist-values.ts'

/** Whose profile: the enrollment it is for, first issued or renewed. */
export interface ProfileSubject {
  enrollmentId: string
  enrollmentType: EnrollmentType
  managedAppleId: string
}

export interface IssuedEnrollmentProfile {
  /** `application/x-apple-aspen-config`: the XML, in a CMS SignedData when the tenant signs profiles. */
  body: Buffer
  /** The identity's certificate, when Onramp issued it (PKCS #12). */
  identity: AppleIdentityCertificate | undefined
}

/**
 * An enrollment's configuration profile as the device installs it, the first time and at each
 * identity renewal: the same payload identifiers and URLs (so a renewal replaces the installed
 * profile in place), a new identity from the tenant's CA, signed when the tenant has a
 * profile-signing certificate.
 */
export class EnrollmentProfileIssuer {
  readonly #ca: DeviceCertificateAuthority
  readonly #configs: AppleConfigManager
  readonly #issuer: (tenantId: string) => string

  constructor(options: {
    ca: DeviceCertificateAuthority
    configs: AppleConfigManager
    issuer: (tenantId: string) => string
  }) {
    this.#ca = options.ca
    this.#configs = options.configs
    this.#issuer = options.issuer
  }

  async issue(
    tenant: Tenant,
    config: AppleConfig,
    subject: ProfileSubject,
    now: number,
  ): Promise<IssuedEnrollmentProfile> {
    const urls = appleURLs(this.#issuer(tenant.id))
    const { identity, certificate } = await this.#identity(tenant, config, subject.enrollmentId, now)
    const profile = buildEnrollmentProfile({
      tenantId: tenant.id,
      enrollmentId: subject.enrollmentId,
      enrollmentType: subject.enrollmentType,
      managedAppleId: subject.managedAppleId,
      topic: config.settings.topic,
      serverURL: urls.server(subject.enrollmentId),
      checkInURL: urls.checkIn(subject.enrollmentId),
      accessRights: config.settings.accessRights,
      organization: config.settings.organization,
      displayName: `${config.settings.organization ?? tenant.name} device management`,
      identity,
    })
    const plist = Buffer.from(buildPlist(profile))
    const signer = this.#configs.profileSigner(config)
    return {
      body: signer ? await signContent(plist, signer, new Date(now * 1000)) : plist,
      identity: certificate,
    }
  }

  async #identity(
    tenant: Tenant,
    config: AppleConfig,
    enrollmentId: string,
    now: number,
  ): Promise<{ identity: ProfileIdentity; certificate: AppleIdentityCertificate | undefined }> {
    const issuance = config.settings.identity
    if (issuance.type !== 'pkcs12') return { identity: issuance, certificate: undefined }
    if (!config.ca) throw new AppError('temporarily_unavailable', 'the tenant has no device CA')
    const issued = await this.#ca.issueIdentity(tenant.id, config.ca, {
      commonName: `${tenant.id}:${enrollmentId}`,
      organization: config.settings.organization,
      now,
    })
    return {
      identity: { type: 'pkcs12', pkcs12: issued.pkcs12, password: issued.password },
      certificate: { serial: issued.serial, sha256: issued.sha256, notAfter: issued.notAfter },
    }
  }
}
