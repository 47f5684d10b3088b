import { X509Certificate } from 'node:crypto'
import { timeOrderedId } from '../crypto/secrets.ts'
import type { Clock } from '../domain/clock.ts'
import type { TokenManager } from '../domain/token-manager.ts'
import { AppError } from '../errors/app-error.ts'
import type { Grant } from '../store/grant-store.ts'
import type { Store } from '../store/stores.ts'
import type { Tenant } from '../store/tenant-store.ts'
import type { AppleAuthorizer } from './apple-authorization.ts'
import { type AppleConfigManager, appleEnrollmentAudience, appleURLs } from './apple-config-manager.ts'
import type { AppleConfig } from './apple-config-store.ts'
import type { AppleEnrollment } from './apple-enrollment-store.ts'
import { DiscoveryRejected } from './apple-errors.ts'
import { type EnrollmentType, isDomainName, ModelFamilies, type ModelFamily } from './apple-settings.ts'
import { authenticationResultsURL } from './challenge.ts'
import { type MachineInfo, MachineInfoRejected, readSignedMachineInfo } from './machine-info.ts'
import type { EnrollmentProfileIssuer } from './profile-issuer.ts'

/** Apple's discovery answer: one server, whose `Version` is the enrollment type. */
export interface DiscoveryAnswer {
  Servers: [{ Version: EnrollmentType; BaseURL: string }]
}

/** An enrollment profile handed to a device, and the enrollment it starts. */
export interface IssuedProfile {
  /**
   * The profile (`application/x-apple-aspen-config`): an XML property list, in a CMS SignedData
   * (DER) when the tenant has a profile-signing certificate.
   */
  profile: Buffer
  enrollment: AppleEnrollment
}

/**
 * The account-driven enrollment flow up to the enrollment profile: service discovery, the
 * device's signed first request, the challenge that starts its sign-in, the end of the simple
 * method's sign-in (`completeSignIn`), and the profile for an authorized request. An enrollment is
 * recorded only when its profile is issued; a refused request leaves nothing behind.
 */
export class AppleEnrollmentManager {
  readonly #store: Store
  readonly #clock: Clock
  readonly #tokens: TokenManager
  readonly #configs: AppleConfigManager
  readonly #authorizer: AppleAuthorizer
  readonly #profiles: EnrollmentProfileIssuer

  constructor(options: {
    store: Store
    clock: Clock
    tokens: TokenManager
    configs: AppleConfigManager
    authorizer: AppleAuthorizer
    profiles: EnrollmentProfileIssuer
  }) {
    this.#store = options.store
    this.#clock = options.clock
    this.#tokens = options.tokens
    this.#configs = options.configs
    this.#authorizer = options.authorizer
    this.#profiles = options.profiles
  }

  /**
   * `GET /.well-known/com.apple.remotemanagement`: the domain of the user identifier (after its
   * last `@`) selects the tenant, the model family the enrollment type.
   */
  async discover(query: {
    userIdentifier: string | undefined
    modelFamily: string | undefined
  }): Promise<DiscoveryAnswer> {
    const { userIdentifier, modelFamily } = query
    const at = userIdentifier?.lastIndexOf('@') ?? -1
    const domain = at > 0 ? userIdentifier!.slice(at + 1).toLowerCase() : ''
    if (!isDomainName(domain))
      throw new DiscoveryRejected('user-identifier is not user@domain', 'Enter your account as name@domain.')
    const tenantId = await this.#configs.tenantForDomain(domain)
    const config = tenantId === undefined ? undefined : await this.#configs.find(tenantId)
    if (!tenantId || !config)
      throw new DiscoveryRejected(`no tenant manages ${domain}`, 'This account cannot enroll devices here.')
    if (!ModelFamilies.includes(modelFamily as ModelFamily))
      throw new DiscoveryRejected(`unknown model-family "${modelFamily ?? ''}"`, 'This device cannot enroll.')
    const type = config.settings.enrollmentTypes[modelFamily as ModelFamily]
    if (type === 'none')
      throw new DiscoveryRejected(`enrollment of ${modelFamily} is off`, 'This kind of device cannot enroll.')
    return { Servers: [{ Version: type, BaseURL: appleURLs(this.#tokens.issuer(tenantId)).enroll(type) }] }
  }

  /** The tenant's configuration for its Apple endpoints; `not_found` when enrollment is off. */
  async config(tenant: Tenant): Promise<AppleConfig> {
    const config = await this.#configs.find(tenant.id)
    if (!config) throw new AppError('not_found', 'Apple enrollment is not configured for this tenant')
    return config
  }

  /**
   * `POST {BaseURL}`: reads the signed MachineInfo, then either asks the device to sign in (no or
   * an unusable bearer token: `AppleAuthenticationRequired`) or issues the enrollment profile.
   */
  async enroll(
    tenant: Tenant,
    type: EnrollmentType,
    request: { body: Uint8Array; authorization: string | undefined },
  ): Promise<IssuedProfile> {
    const config = await this.config(tenant)
    if (!Object.values(config.settings.enrollmentTypes).includes(type))
      throw new AppError('forbidden', `this tenant does not offer ${type} enrollment`)
    const machineInfo = await this.#machineInfo(config, request.body)
    const bearer = await this.#authorizer.authorize(tenant, config, request.authorization, {
      enrollmentSSO: true,
    })
    const managedAppleId = await this.#managedAppleId(tenant, config, bearer.profileId)

    const now = this.#clock.now()
    const id = timeOrderedId()
    // Made before anything is written: a profile that cannot be made leaves no enrollment.
    const { body, identity } = await this.#profiles.issue(
      tenant,
      config,
      { enrollmentId: id, enrollmentType: type, managedAppleId },
      now,
    )
    const enrollment: AppleEnrollment = {
      id,
      tenantId: tenant.id,
      profileId: bearer.profileId,
      grantId: bearer.grantId,
      enrollmentType: type,
      managedAppleId,
      status: 'profile_issued',
      device: {
        udid: machineInfo.udid,
        userEnrollmentId: undefined,
        serialNumber: machineInfo.serialNumber,
        product: machineInfo.product,
        osBuild: machineInfo.osBuild,
        osVersion: machineInfo.osVersion,
        language: machineInfo.language,
      },
      push: undefined,
      identitySerial: identity?.serial,
      identitySHA256: identity?.sha256,
      identityNotAfter: identity?.notAfter,
      renewal: undefined,
      sealedUnlockToken: undefined,
      createdAt: now,
      updatedAt: now,
      lastSeenAt: now,
      checkedOutAt: undefined,
    }
    await this.#store.transaction(async (stores) => {
      await this.#authorizer.assertStillActive(stores, tenant, config, bearer)
      await stores.appleEnrollments.create(enrollment)
    })
    return { profile: body, enrollment }
  }

  /**
   * The end of the simple method's sign-in, for the hosted login to call: given the token family
   * of a person's sign-in with the tenant's Apple client, the access token the device keeps, in
   * the `apple-remotemanagement-user-login://authentication-results` URL to redirect it to (308).
   */
  async completeSignIn(tenant: Tenant, grant: Grant): Promise<{ accessToken: string; location: string }> {
    const config = await this.config(tenant)
    const now = this.#clock.now()
    const [profile, resource] = await Promise.all([
      this.#store.profiles.get(tenant.id, grant.profileId),
      this.#store.resources.get(tenant.id, appleEnrollmentAudience),
    ])
    if (grant.tenantId !== tenant.id || grant.clientId !== config.settings.clientId)
      throw new AppError('forbidden', 'the sign-in was not made for Apple enrollment')
    if (grant.revokedAt !== undefined || grant.expiresAt <= now)
      throw new AppError('forbidden', 'the sign-in is no longer valid')
    if (profile?.kind !== 'identified')
      throw new AppError('forbidden', 'sign in with an account of the organization')
    await this.#managedAppleId(tenant, config, profile.id)
    const ttl = Math.min(resource?.accessTokenTtl ?? tenant.settings.accessTokenTtl, grant.expiresAt - now)
    const access = await this.#tokens.issueAccessToken(tenant, {
      subject: profile.id,
      audience: appleEnrollmentAudience,
      clientId: grant.clientId,
      scope: grant.scope,
      acr: grant.acr,
      amr: grant.amr,
      sid: grant.id,
      ttl,
    })
    return { accessToken: access.token, location: authenticationResultsURL(access.token) }
  }

  /** Refuses a `user-identifier` (the sign-in page's) at a domain the tenant does not manage. */
  async checkUserIdentifier(tenant: Tenant, userIdentifier: string): Promise<void> {
    const config = await this.config(tenant)
    const domain = userIdentifier.slice(userIdentifier.lastIndexOf('@') + 1).toLowerCase()
    if (!userIdentifier.includes('@') || !config.settings.managedDomains.includes(domain))
      throw new AppError('forbidden', 'this account cannot enroll devices with this organization')
  }

  async #machineInfo(config: AppleConfig, body: Uint8Array): Promise<MachineInfo> {
    try {
      return await readSignedMachineInfo(body, {
        trustAnchors: config.settings.deviceTrustAnchors.map((pem) => new X509Certificate(pem)),
      })
    } catch (error) {
      if (!(error instanceof MachineInfoRejected)) throw error
      const refused = error.reason === 'signature' || error.reason === 'untrusted'
      throw new AppError(refused ? 'forbidden' : 'invalid_input', error.message)
    }
  }

  /**
   * Apple requires the person's Managed Apple Account in the profile. A federated account is
   * the address the person signs in with, so it is the person's identity at a managed domain.
   */
  async #managedAppleId(tenant: Tenant, config: AppleConfig, profileId: string): Promise<string> {
    const identities = await this.#store.identities.listForProfile(tenant.id, profileId)
    const account = identities
      .map((identity) => identity.subject.toLowerCase())
      .find((subject) => {
        const at = subject.lastIndexOf('@')
        return at > 0 && config.settings.managedDomains.includes(subject.slice(at + 1))
      })
    if (!account) throw new AppError('forbidden', 'the signed-in account has no address at a managed domain')
    return account
  }
}
