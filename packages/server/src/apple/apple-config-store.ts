import type { AppleSettings } from './apple-settings.ts'
import type { ApnsEnvironment } from './push-notifier.ts'

/** The tenant's device CA: issues the identity certificates of enrollment profiles. */
export interface AppleDeviceCA {
  keyType: 'ec' | 'rsa'
  certificatePEM: string
  /** PKCS #8 PEM, sealed with the master key. */
  sealedPrivateKey: string
}

/** The tenant's MDM push certificate (Apple's Push Certificates Portal), for APNs. */
export interface ApplePushCertificate {
  environment: ApnsEnvironment
  certificatePEM: string
  /** PKCS #8 PEM, sealed with the master key. */
  sealedPrivateKey: string
}

/** The certificate enrollment profiles are signed with (CMS), so devices show who they come from. */
export interface AppleProfileSigning {
  /** PEM certificates, the signer's first, then the intermediates that lead to a root devices trust. */
  chainPEM: string
  /** PKCS #8 PEM, sealed with the master key. */
  sealedPrivateKey: string
}

/** A tenant's Apple account-driven enrollment configuration. */
export interface AppleConfig {
  tenantId: string
  settings: AppleSettings
  ca: AppleDeviceCA | undefined
  push: ApplePushCertificate | undefined
  profileSigning: AppleProfileSigning | undefined
  createdAt: number
  updatedAt: number
}

/** The certificates of one tenant's configuration that expire, without their keys. */
export interface AppleCertificates {
  tenantId: string
  deviceCA: string | undefined
  push: string | undefined
  /** The profile signer's certificate first, then its intermediates. */
  profileSigningChain: string | undefined
}

export interface AppleConfigStore {
  get(tenantId: string): Promise<AppleConfig | undefined>
  /** Every configured tenant's certificates, in tenant order. */
  listCertificates(): Promise<AppleCertificates[]>
  /** The tenant whose managed domains include `domain` (lower case). */
  tenantForDomain(domain: string): Promise<string | undefined>
  /** Which of `domains` another tenant manages already. */
  domainsOfOtherTenants(tenantId: string, domains: readonly string[]): Promise<string[]>
  /** Creates or replaces the configuration, managed domains included. */
  put(config: AppleConfig): Promise<void>
}
