import { createPrivateKey, X509Certificate } from 'node:crypto'
import { GrantType } from '@onramp/protocol'
import type { SecretBox } from '../crypto/secret-box.ts'
import type { Clock } from '../domain/clock.ts'
import { TTLCache } from '../domain/ttl-cache.ts'
import { AppError } from '../errors/app-error.ts'
import type { Client } from '../store/client-store.ts'
import type { Resource } from '../store/resource-store.ts'
import type { Store, Stores } from '../store/stores.ts'
import type { AppleConfig, AppleProfileSigning, ApplePushCertificate } from './apple-config-store.ts'
import { type AppleSettingsInput, validateAppleSettings } from './apple-settings.ts'
import { appleOAuthRedirectURL } from './challenge.ts'
import type { CMSSigner } from './cms.ts'
import type { DeviceCertificateAuthority } from './device-ca.ts'
import { pemOr, pkcs8PEM } from './pem.ts'
import { profileSigningChain, readProfileSigner } from './profile-signing.ts'
import type { ApnsEnvironment, PushCredentials } from './push-notifier.ts'

/** The audience of the bearer tokens Apple devices present: a resource every configured tenant has. */
export const appleEnrollmentAudience = 'apple-mdm'

/** The scope the OAuth 2 method asks devices to request. */
export const appleOAuthScope = 'mdm'

/**
 * Tokens of the simple method live as long as the `apple-mdm` resource says (the longest a
 * resource allows): the device cannot refresh them, and signs in again when they expire.
 */
const enrollmentTokenTtl = 86400

/** The URLs of a tenant's Apple endpoints, relative to its issuer. */
export function appleURLs(issuer: string) {
  return {
    enroll: (type: 'mdm-byod' | 'mdm-adde') =>
      `${issuer}/apple/enroll/${type === 'mdm-byod' ? 'byod' : 'adde'}`,
    login: `${issuer}/apple/login`,
    loginCallback: `${issuer}/apple/login/callback`,
    enrollmentSSO: `${issuer}/apple/enrollment-sso`,
    enrollmentSSODeveloper: `${issuer}/apple/enrollment-sso-developer`,
    checkIn: (enrollmentId: string) => `${issuer}/apple/mdm/${enrollmentId}/checkin`,
    server: (enrollmentId: string) => `${issuer}/apple/mdm/${enrollmentId}/connect`,
  }
}

/** When one of a tenant's Apple certificates expires, in seconds since the epoch. */
export interface AppleCertificateExpiry {
  tenantId: string
  certificate: 'device_ca' | 'push' | 'profile_signing'
  notAfter: number
}

/** What an administrator uploads to sign enrollment profiles: a certificate chain and the signer's key. */
export interface ProfileSigningInput {
  /** PEM, the signer's certificate first, then its intermediates. */
  certificatePEM: string
  privateKeyPEM: string
}

/** What an administrator uploads to let Onramp push: Apple's MDM push certificate and its key. */
export interface PushCertificateInput {
  certificatePEM: string
  privateKeyPEM: string
  environment: ApnsEnvironment
}

/**
 * Each tenant's Apple settings, and what they imply: the device CA (made when the PKCS #12
 * identity is chosen, again when its key type changes), the `apple-mdm` resource and the public
 * client Apple devices sign in with (exempt from PKCE, which the device's OAuth 2 flow lacks).
 * The MDM push certificate is set apart from the settings, and must be for their APNs topic; so is
 * the certificate enrollment profiles are signed with.
 */
export class AppleConfigManager {
  readonly #store: Store
  readonly #clock: Clock
  readonly #ca: DeviceCertificateAuthority
  readonly #secretBox: SecretBox
  readonly #issuer: (tenantId: string) => string
  readonly #cache = new TTLCache<AppleConfig | undefined>({ ttlMilliseconds: 5000 })

  constructor(options: {
    store: Store
    clock: Clock
    ca: DeviceCertificateAuthority
    /** Seals the private keys of push and profile-signing certificates. */
    secretBox: SecretBox
    issuer: (tenantId: string) => string
  }) {
    this.#store = options.store
    this.#clock = options.clock
    this.#ca = options.ca
    this.#secretBox = options.secretBox
    this.#issuer = options.issuer
  }

  /** The configuration for a request, from a short-lived cache; undefined when Apple enrollment is off. */
  find(tenantId: string): Promise<AppleConfig | undefined> {
    return this.#cache.get(tenantId, () => this.#store.appleConfigs.get(tenantId))
  }

  async get(tenantId: string): Promise<AppleConfig> {
    const config = await this.#store.appleConfigs.get(tenantId)
    if (!config)
      throw new AppError('not_found', `Apple enrollment is not configured for tenant "${tenantId}"`)
    return config
  }

  /**
   * When each configured tenant's certificates expire: the device CA's, the push certificate's
   * and the profile-signing chain's (its first certificate to expire), in seconds since the epoch.
   */
  async certificateExpiries(): Promise<AppleCertificateExpiry[]> {
    const expiries: AppleCertificateExpiry[] = []
    for (const row of await this.#store.appleConfigs.listCertificates()) {
      const { tenantId, deviceCA, push, profileSigningChain: chain } = row
      const expires = (certificate: AppleCertificateExpiry['certificate'], chainOf: X509Certificate[]) => {
        const notAfter = Math.min(...chainOf.map((one) => Math.floor(one.validToDate.getTime() / 1000)))
        expiries.push({ tenantId, certificate, notAfter })
      }
      if (deviceCA) expires('device_ca', [new X509Certificate(deviceCA)])
      if (push) expires('push', [new X509Certificate(push)])
      if (chain) expires('profile_signing', profileSigningChain(chain))
    }
    return expiries
  }

  /** The tenant that manages the domain, if any. */
  tenantForDomain(domain: string): Promise<string | undefined> {
    return this.#store.appleConfigs.tenantForDomain(domain)
  }

  /** Creates or replaces the tenant's settings, with the CA, resource and client they need, at once. */
  async configure(tenantId: string, input: AppleSettingsInput): Promise<AppleConfig> {
    const settings = validateAppleSettings(input)
    const now = this.#clock.now()
    const existing = await this.#store.appleConfigs.get(tenantId)
    const keyType = settings.identity.type === 'pkcs12' ? settings.identity.keyType : undefined
    // Key generation stays outside the transaction; a CA made for a lost race is simply dropped.
    const ca =
      keyType === undefined
        ? existing?.ca
        : existing?.ca?.keyType === keyType
          ? existing.ca
          : await this.#ca.create(tenantId, keyType, { organization: settings.organization, now })
    const config = await this.#store.transaction(async (stores) => {
      if (!(await stores.tenants.get(tenantId)))
        throw new AppError('not_found', `tenant "${tenantId}" does not exist`)
      const taken = await stores.appleConfigs.domainsOfOtherTenants(tenantId, settings.managedDomains)
      if (taken.length > 0)
        throw new AppError('conflict', `another tenant manages ${taken.map((d) => `"${d}"`).join(', ')}`)
      // Certificates are set on their own: read them in the transaction that keeps them.
      const { push, profileSigning } = (await stores.appleConfigs.get(tenantId)) ?? {}
      const pushTopic = push && pushTopicOf(new X509Certificate(push.certificatePEM))
      if (pushTopic !== undefined && pushTopic !== settings.topic)
        throw new AppError(
          'conflict',
          `the push certificate is for topic "${pushTopic}": remove it before changing apns_topic`,
        )
      const next: AppleConfig = {
        tenantId,
        settings,
        ca,
        push,
        profileSigning,
        createdAt: existing?.createdAt ?? now,
        updatedAt: now,
      }
      await stores.appleConfigs.put(next)
      await this.#ensureResource(stores, tenantId, now)
      await this.#ensureClient(stores, tenantId, settings.clientId, now)
      return next
    })
    this.#cache.delete(tenantId)
    return config
  }

  /**
   * Sets the tenant's MDM push certificate: a certificate whose subject's `UID` is the tenant's
   * APNs topic, not expired, with the private key that belongs to it (unencrypted PEM).
   */
  async setPushCertificate(tenantId: string, input: PushCertificateInput): Promise<AppleConfig> {
    const certificate = pemOr('certificate', () => new X509Certificate(input.certificatePEM))
    const key = pemOr('private_key', () => createPrivateKey(input.privateKeyPEM))
    if (key.type !== 'private' || !certificate.checkPrivateKey(key))
      throw new AppError('invalid_input', 'the private key does not belong to the certificate')
    const topic = pushTopicOf(certificate)
    if (topic === undefined)
      throw new AppError('invalid_input', 'not an MDM push certificate: its subject names no UID (topic)')
    const now = this.#clock.now()
    if (certificate.validToDate.getTime() <= now * 1000)
      throw new AppError('invalid_input', `the push certificate expired on ${certificate.validTo}`)
    const push: ApplePushCertificate = {
      environment: input.environment,
      certificatePEM: certificate.toString(),
      sealedPrivateKey: this.#secretBox.seal(pkcs8PEM(key), pushSealContext(tenantId)),
    }
    return this.#updateCertificates(tenantId, { push }, (config) => {
      if (topic !== config.settings.topic)
        throw new AppError(
          'invalid_input',
          `the push certificate is for topic "${topic}", the tenant's apns_topic is "${config.settings.topic}"`,
        )
    })
  }

  /** Removes the push certificate: devices then fetch commands only when they check in by themselves. */
  removePushCertificate(tenantId: string): Promise<AppleConfig> {
    return this.#updateCertificates(tenantId, { push: undefined })
  }

  /** The push certificate with its key opened, for the notifier; undefined when there is none. */
  pushCredentials(config: AppleConfig): PushCredentials | undefined {
    const { push } = config
    if (!push) return undefined
    return {
      environment: push.environment,
      certificatePEM: push.certificatePEM,
      privateKeyPEM: this.#secretBox.open(push.sealedPrivateKey, pushSealContext(config.tenantId)),
    }
  }

  /**
   * Sets the certificate enrollment profiles are signed with (CMS SignedData), with the
   * intermediates that lead to a root the devices trust: checked as `readProfileSigner` says.
   */
  setProfileSigningCertificate(tenantId: string, input: ProfileSigningInput): Promise<AppleConfig> {
    const { chain, privateKey } = readProfileSigner(
      input.certificatePEM,
      input.privateKeyPEM,
      this.#clock.now(),
    )
    const profileSigning: AppleProfileSigning = {
      chainPEM: chain.map((certificate) => certificate.toString()).join(''),
      sealedPrivateKey: this.#secretBox.seal(pkcs8PEM(privateKey), profileSigningSealContext(tenantId)),
    }
    return this.#updateCertificates(tenantId, { profileSigning })
  }

  /** Removes the profile-signing certificate: profiles are then unsigned. */
  removeProfileSigningCertificate(tenantId: string): Promise<AppleConfig> {
    return this.#updateCertificates(tenantId, { profileSigning: undefined })
  }

  /** The profile-signing chain with its key opened; undefined when profiles go unsigned. */
  profileSigner(config: AppleConfig): CMSSigner | undefined {
    const { profileSigning } = config
    if (!profileSigning) return undefined
    return {
      chain: profileSigningChain(profileSigning.chainPEM),
      privateKey: createPrivateKey(
        this.#secretBox.open(profileSigning.sealedPrivateKey, profileSigningSealContext(config.tenantId)),
      ),
    }
  }

  /**
   * Replaces the device CA with a new one of the same key type (its key compromised, say): new
   * profiles and renewals get identities from it. Identities issued before keep working, since
   * messages are checked against each enrollment's own certificate, until they are renewed.
   */
  async rotateDeviceCA(tenantId: string): Promise<AppleConfig> {
    const { settings } = await this.get(tenantId)
    const identity = settings.identity
    if (identity.type !== 'pkcs12')
      throw new AppError(
        'conflict',
        'the tenant’s identities come from SCEP or ACME: Onramp has no CA for them',
      )
    const ca = await this.#ca.create(tenantId, identity.keyType, {
      organization: settings.organization,
      now: this.#clock.now(),
    })
    return this.#updateCertificates(tenantId, { ca }, (current) => {
      const now = current.settings.identity
      if (now.type !== 'pkcs12' || now.keyType !== identity.keyType)
        throw new AppError('conflict', 'the identity settings changed meanwhile: try again')
    })
  }

  async #updateCertificates(
    tenantId: string,
    certificates: Partial<Pick<AppleConfig, 'ca' | 'push' | 'profileSigning'>>,
    check: (config: AppleConfig) => void = () => {},
  ): Promise<AppleConfig> {
    const updated = await this.#store.transaction(async (stores) => {
      const config = await stores.appleConfigs.get(tenantId)
      if (!config)
        throw new AppError('not_found', `Apple enrollment is not configured for tenant "${tenantId}"`)
      check(config)
      const next: AppleConfig = { ...config, ...certificates, updatedAt: this.#clock.now() }
      await stores.appleConfigs.put(next)
      return next
    })
    this.#cache.delete(tenantId)
    return updated
  }

  async #ensureResource(stores: Stores, tenantId: string, now: number): Promise<void> {
    if (await stores.resources.get(tenantId, appleEnrollmentAudience)) return
    const resource: Resource = {
      tenantId,
      audience: appleEnrollmentAudience,
      name: 'Apple device management (account-driven enrollment)',
      scopes: [],
      // Only the enrollment flows issue tokens for it; no client may exchange for it.
      policy: { allowedClients: [], allowAnonymous: false },
      accessTokenTtl: enrollmentTokenTtl,
      secretHash: undefined,
      createdAt: now,
    }
    await stores.resources.create(resource)
  }

  async #ensureClient(stores: Stores, tenantId: string, clientId: string, now: number): Promise<void> {
    const redirectUris = [appleOAuthRedirectURL, appleURLs(this.#issuer(tenantId)).loginCallback]
    const grantTypes = [GrantType.authorizationCode, GrantType.refreshToken]
    const existing = await stores.clients.get(tenantId, clientId)
    if (!existing) {
      const client: Client = {
        tenantId,
        clientId,
        name: 'Apple devices (account-driven enrollment)',
        type: 'public',
        secretHash: undefined,
        grantTypes,
        scopes: [appleOAuthScope],
        redirectUris,
        webOrigins: [],
        appPolicy: undefined,
        pkceRequired: false,
        createdAt: now,
      }
      await stores.clients.create(client)
      return
    }
    if (existing.type !== 'public')
      throw new AppError(
        'conflict',
        `client "${clientId}" is confidential; Apple devices need a public client`,
      )
    await stores.clients.update(tenantId, clientId, {
      grantTypes: [...new Set([...existing.grantTypes, ...grantTypes])],
      scopes: [...new Set([...existing.scopes, appleOAuthScope])],
      redirectUris: [...new Set([...existing.redirectUris, ...redirectUris])],
      pkceRequired: false,
    })
  }
}

/** The APNs topic of an MDM push certificate: the `UID` of its subject (`com.apple.mgmt.…`). */
export function pushTopicOf(certificate: X509Certificate): string | undefined {
  return /^UID=(.+)$/m.exec(certificate.subject)?.[1]
}

function pushSealContext(tenantId: string): string {
  return `apple-push:${tenantId}`
}

function profileSigningSealContext(tenantId: string): string {
  return `apple-profile-signing:${tenantId}`
}
