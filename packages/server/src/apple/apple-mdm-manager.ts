import type { SecretBox } from '../crypto/secret-box.ts'
import { timeOrderedId } from '../crypto/secrets.ts'
import type { Clock } from '../domain/clock.ts'
import { AppError } from '../errors/app-error.ts'
import type { Store, Stores } from '../store/stores.ts'
import type { Tenant } from '../store/tenant-store.ts'
import type { AppleAuthorizer, AppleBearer } from './apple-authorization.ts'
import type { AppleCommand, AppleCommandStatus } from './apple-command-store.ts'
import type { AppleConfigManager } from './apple-config-manager.ts'
import type { AppleConfig } from './apple-config-store.ts'
import type {
  AppleDeviceFacts,
  AppleEnrollment,
  AppleEnrollmentPatch,
  AppleIdentityRenewal,
  ApplePushTarget,
} from './apple-enrollment-store.ts'
import { checkMessageSignature } from './message-signature.ts'
import {
  buildPlist,
  type PlistDict,
  PlistError,
  parsePlistDict,
  plistData,
  plistString,
} from './plist-values.ts'
import type { EnrollmentProfileIssuer } from './profile-issuer.ts'
import type { PushLog, PushNotifier } from './push-notifier.ts'

/** A check-in or server message: its body, `Authorization` and `Mdm-Signature` headers. */
export interface MdmMessage {
  body: Uint8Array
  authorization: string | undefined
  signature: string | undefined
}

/** How the check-in endpoint answers: 200, or 410 `Gone` (a user the server does not manage). */
export interface CheckInAnswer {
  status: 200 | 410
}

const reportStatuses: readonly AppleCommandStatus[] = [
  'Acknowledged',
  'Error',
  'CommandFormatError',
  'NotNow',
]
const requestTypePattern = /^[A-Za-z][A-Za-z0-9]{0,127}$/
const maxPageSize = 500

/** A device whose identity expires within this many seconds gets a new one when it next connects. */
export const identityRenewalWindow = 30 * 86400

/** The message, its bearer and, for an enrollment that signs its messages, the signer's fingerprint. */
interface AuthorizedMessage {
  config: AppleConfig
  bearer: AppleBearer
  /** The enrollment as read before the transaction (undefined: the transaction answers 404). */
  enrollment: AppleEnrollment | undefined
  signedWith: string | undefined
}

/**
 * An enrollment's life after its profile: the check-in protocol (`Authenticate`, `TokenUpdate`,
 * `CheckOut`), the server URL with its command queue, and what administrators do (send commands,
 * force a new sign-in). Every request carries the person's bearer token (ongoing authorization);
 * a message from the user channel of a Mac is accepted but changes nothing, since commands and
 * pushes go to the device channel.
 */
export class AppleMdmManager {
  readonly #store: Store
  readonly #clock: Clock
  readonly #configs: AppleConfigManager
  readonly #authorizer: AppleAuthorizer
  readonly #push: PushNotifier
  readonly #secretBox: SecretBox
  readonly #profiles: EnrollmentProfileIssuer

  constructor(options: {
    store: Store
    clock: Clock
    configs: AppleConfigManager
    authorizer: AppleAuthorizer
    push: PushNotifier
    /** Seals the devices' `UnlockToken`s and renewal profiles. */
    secretBox: SecretBox
    profiles: EnrollmentProfileIssuer
  }) {
    this.#store = options.store
    this.#clock = options.clock
    this.#configs = options.configs
    this.#authorizer = options.authorizer
    this.#push = options.push
    this.#secretBox = options.secretBox
    this.#profiles = options.profiles
  }

  /** `PUT/POST {CheckInURL}`. */
  async checkIn(tenant: Tenant, enrollmentId: string, request: MdmMessage): Promise<CheckInAnswer> {
    const message = parseMessage(request.body)
    const type = text(message, 'MessageType', 64)
    const authorized = await this.#authorize(tenant, enrollmentId, request, { lenient: type === 'CheckOut' })
    const now = this.#clock.now()
    return this.#store.transaction(async (stores) => {
      const { enrollment, userChannel } = await this.#enrollmentFor(
        stores,
        tenant,
        enrollmentId,
        authorized,
        message,
      )
      const patch: AppleEnrollmentPatch = {
        lastSeenAt: now,
        ...(await this.#renewedBySignature(stores, enrollment, authorized, message, now)),
      }
      switch (type) {
        case 'Authenticate':
          if (!userChannel) {
            patch.device = reportedFacts(message)
            if (enrollment.status === 'profile_issued') patch.status = 'authenticated'
          }
          break
        case 'TokenUpdate':
          if (!userChannel) {
            const token = data(message, 'Token')
            const magic = text(message, 'PushMagic', 1024)
            const topic = text(message, 'Topic', 255)
            if (!token || !magic || !topic) throw invalid('TokenUpdate needs Token, PushMagic and Topic')
            patch.push = { topic, token: Buffer.from(token).toString('hex'), magic }
            patch.status = 'enrolled'
            const unlock = data(message, 'UnlockToken')
            if (unlock !== undefined) {
              if (unlock.length === 0 || unlock.length > maxUnlockTokenBytes)
                throw invalid(`UnlockToken must hold 1 to ${maxUnlockTokenBytes} bytes`)
              patch.sealedUnlockToken = this.#sealUnlockToken(tenant.id, enrollment.id, unlock)
            }
          }
          break
        case 'CheckOut':
          if (!userChannel) {
            patch.status = 'checked_out'
            patch.checkedOutAt = now
            // The device is gone, and with it the use of its tokens.
            await stores.grants.revoke(tenant.id, authorized.bearer.grantId, 'revoked', now)
          }
          break
        case 'UserAuthenticate':
          // Apple: a server that does not manage the user answers 410 to the first request.
          return { status: 410 }
        case 'GetToken':
          throw invalid(`token service type "${text(message, 'TokenServiceType') ?? ''}" is not supported`)
        default:
          throw invalid(`check-in message type "${type ?? ''}" is not supported`)
      }
      await stores.appleEnrollments.update(tenant.id, enrollment.id, patch, now)
      return { status: 200 }
    })
  }

  /**
   * `PUT/POST {ServerURL}`: records the result the device reports, then answers with the next
   * queued command (an XML property list) or nothing. After `Idle` commands that were sent
   * without an answer or postponed (`NotNow`) are due again; after a result, only new ones.
   */
  async connect(tenant: Tenant, enrollmentId: string, request: MdmMessage): Promise<string | undefined> {
    const message = parseMessage(request.body)
    const status = text(message, 'Status', 64)
    if (status !== 'Idle' && !reportStatuses.includes(status as AppleCommandStatus))
      throw invalid(`Status "${status ?? ''}" is not one of Idle, ${reportStatuses.join(', ')}`)
    const commandUUID = text(message, 'CommandUUID', 64)
    if (status !== 'Idle' && !commandUUID) throw invalid('a command result needs its CommandUUID')
    const authorized = await this.#authorize(tenant, enrollmentId, request, { lenient: false })
    const now = this.#clock.now()
    // A device near its identity's expiry gets a new one; made here, outside the transaction.
    const seen = authorized.enrollment
    const renewal =
      seen && !isUserChannel(message) && renewalDue(seen, now)
        ? await this.#prepareRenewal(tenant, authorized.config, seen, now)
        : undefined
    return this.#store.transaction(async (stores) => {
      const { enrollment, userChannel } = await this.#enrollmentFor(
        stores,
        tenant,
        enrollmentId,
        authorized,
        message,
      )
      const patch: AppleEnrollmentPatch = {
        lastSeenAt: now,
        ...(await this.#renewedBySignature(stores, enrollment, authorized, message, now)),
      }
      if (status !== 'Idle' && commandUUID) {
        const recorded = await stores.appleCommands.recordResult(tenant.id, enrollment.id, commandUUID, {
          status: status as AppleCommandStatus,
          report: buildPlist(message),
          at: now,
        })
        if (!recorded) throw invalid(`command ${commandUUID} was not sent to this enrollment`)
        if (enrollment.renewal?.commandUUID === commandUUID)
          Object.assign(patch, renewalAnswered(enrollment.renewal, status as AppleCommandStatus))
      }
      if (renewal && !enrollment.renewal) {
        await stores.appleCommands.create(renewal.command)
        patch.renewal = renewal.renewal
      }
      await stores.appleEnrollments.update(tenant.id, enrollment.id, patch, now)
      if (userChannel) return undefined
      const next = await stores.appleCommands.next(
        tenant.id,
        enrollment.id,
        status === 'Idle' ? ['queued', 'sent', 'NotNow'] : ['queued'],
      )
      if (!next) return undefined
      await stores.appleCommands.markSent(tenant.id, next.commandUUID, now)
      return buildPlist({
        CommandUUID: next.commandUUID,
        Command: this.#asSent(next, {
          ...enrollment,
          renewal: patch.renewal === undefined ? enrollment.renewal : (patch.renewal ?? undefined),
        }),
      })
    })
  }

  /** Queues a command (Apple's `Command` dictionary) and asks the device to fetch it. */
  async enqueue(
    tenantId: string,
    enrollmentId: string,
    command: PlistDict,
    context: { log: PushLog },
  ): Promise<AppleCommand> {
    const requestType = command.RequestType
    if (typeof requestType !== 'string' || !requestTypePattern.test(requestType))
      throw new AppError('invalid_input', 'RequestType must name an MDM command, like DeviceInformation')
    const now = this.#clock.now()
    const queued: AppleCommand = {
      commandUUID: timeOrderedId(),
      tenantId,
      enrollmentId,
      requestType,
      command,
      status: 'queued',
      result: undefined,
      createdAt: now,
      sentAt: undefined,
      completedAt: undefined,
    }
    const enrollment = await this.#store.transaction(async (stores) => {
      const found = await this.#enrollment(stores, tenantId, enrollmentId)
      if (found.status === 'checked_out')
        throw new AppError('conflict', 'the device has left this enrollment')
      if (needsUnlockToken(command) && found.sealedUnlockToken === undefined)
        throw new AppError('conflict', 'ClearPasscode needs the UnlockToken, which this device has not sent')
      await stores.appleCommands.create(queued)
      return found
    })
    if (enrollment.push) await this.#wake(enrollment, enrollment.push, context.log)
    return queued
  }

  /**
   * Gives the device a new identity now, whatever its expiry: queues an `InstallProfile` command
   * of its enrollment profile with a new identity (PKCS #12) and wakes the device. Until the device
   * answers it, messages signed with either identity are accepted.
   */
  async renewIdentity(
    tenantId: string,
    enrollmentId: string,
    context: { log: PushLog },
  ): Promise<AppleCommand> {
    const tenant = await this.#store.tenants.get(tenantId)
    if (!tenant) throw new AppError('not_found', `tenant "${tenantId}" does not exist`)
    const config = await this.#configs.get(tenant.id)
    const found = await this.getEnrollment(tenant.id, enrollmentId)
    assertRenewable(found)
    const renewal = await this.#prepareRenewal(tenant, config, found, this.#clock.now())
    if (!renewal)
      throw new AppError(
        'conflict',
        'the tenant issues SCEP or ACME identities now: devices renew those themselves',
      )
    const enrollment = await this.#store.transaction(async (stores) => {
      const current = await this.#enrollment(stores, tenant.id, enrollmentId)
      assertRenewable(current)
      await stores.appleCommands.create(renewal.command)
      await stores.appleEnrollments.update(
        tenant.id,
        enrollmentId,
        { renewal: renewal.renewal },
        this.#clock.now(),
      )
      return current
    })
    if (enrollment.push) await this.#wake(enrollment, enrollment.push, context.log)
    return renewal.command
  }

  /**
   * The command and renewal record of a new identity for the enrollment, or undefined when the
   * tenant's identities are not Onramp's (SCEP, ACME). The profile is sealed: it holds the key.
   */
  async #prepareRenewal(
    tenant: Tenant,
    config: AppleConfig,
    enrollment: AppleEnrollment,
    now: number,
  ): Promise<{ command: AppleCommand; renewal: AppleIdentityRenewal } | undefined> {
    const { id: enrollmentId, enrollmentType, managedAppleId } = enrollment
    const issued = await this.#profiles.issue(
      tenant,
      config,
      { enrollmentId, enrollmentType, managedAppleId },
      now,
    )
    if (!issued.identity) return undefined
    const commandUUID = timeOrderedId()
    return {
      command: {
        commandUUID,
        tenantId: tenant.id,
        enrollmentId: enrollment.id,
        requestType: 'InstallProfile',
        command: { RequestType: 'InstallProfile' },
        status: 'queued',
        result: undefined,
        createdAt: now,
        sentAt: undefined,
        completedAt: undefined,
      },
      renewal: {
        commandUUID,
        ...issued.identity,
        sealedProfile: this.#secretBox.seal(
          issued.body.toString('base64'),
          renewalContext(tenant.id, enrollment.id),
        ),
      },
    }
  }

  /**
   * The identity the device now signs with, once it signs with the one a renewal sent: it
   * installed the profile, so the renewal's command is done, with this message as its report
   * (else the command would be sent again at the next `Idle`).
   */
  async #renewedBySignature(
    stores: Stores,
    enrollment: AppleEnrollment,
    authorized: AuthorizedMessage,
    message: PlistDict,
    now: number,
  ): Promise<AppleEnrollmentPatch> {
    const renewal = enrollment.renewal
    if (!renewal || authorized.signedWith !== renewal.sha256) return {}
    if (message.CommandUUID !== renewal.commandUUID)
      await stores.appleCommands.recordResult(enrollment.tenantId, enrollment.id, renewal.commandUUID, {
        status: 'Acknowledged',
        report: buildPlist(message),
        at: now,
      })
    return { identity: identityOf(renewal), renewal: null }
  }

  /**
   * Pushes to the device. A token APNs no longer takes is forgotten, unless the device sent
   * another meanwhile: it is not pushed to again until its next `TokenUpdate`.
   */
  async #wake(enrollment: AppleEnrollment, target: ApplePushTarget, log: PushLog): Promise<void> {
    const { tenantId, id: enrollmentId } = enrollment
    const config = await this.#configs.find(tenantId)
    const credentials = config && this.#configs.pushCredentials(config)
    const outcome = await this.#push.notify(target, { tenantId, enrollmentId, credentials, log })
    if (outcome !== 'unregistered') return
    await this.#store.transaction(async (stores) => {
      const current = await stores.appleEnrollments.get(tenantId, enrollmentId)
      if (current?.push?.token === target.token)
        await stores.appleEnrollments.update(tenantId, enrollmentId, { push: null }, this.#clock.now())
    })
  }

  /**
   * Revokes the enrollment's token family: the device's next request is answered with the
   * challenge, and it signs in again (OAuth 2 devices cannot refresh either: the family is gone).
   */
  async revokeTokens(tenantId: string, enrollmentId: string): Promise<{ revoked: boolean }> {
    const enrollment = await this.getEnrollment(tenantId, enrollmentId)
    const revoked = await this.#store.grants.revoke(tenantId, enrollment.grantId, 'admin', this.#clock.now())
    return { revoked }
  }

  async getEnrollment(tenantId: string, enrollmentId: string): Promise<AppleEnrollment> {
    return this.#enrollment(this.#store, tenantId, enrollmentId)
  }

  /** A page of the tenant's enrollments and the `after` of the next page. */
  async page(
    tenantId: string,
    options: { profileId?: string; limit?: number; after?: string } = {},
  ): Promise<{ enrollments: AppleEnrollment[]; next: string | undefined }> {
    const limit = options.limit ?? 100
    if (!Number.isInteger(limit) || limit < 1 || limit > maxPageSize)
      throw new AppError('invalid_input', `limit must be 1–${maxPageSize}`)
    const enrollments = await this.#store.appleEnrollments.list(tenantId, { ...options, limit: limit + 1 })
    const more = enrollments.length > limit
    const page = enrollments.slice(0, limit)
    return { enrollments: page, next: more ? page.at(-1)?.id : undefined }
  }

  async commands(tenantId: string, enrollmentId: string): Promise<AppleCommand[]> {
    await this.getEnrollment(tenantId, enrollmentId)
    return this.#store.appleCommands.list(tenantId, enrollmentId)
  }

  async #enrollment(
    stores: Pick<Stores, 'appleEnrollments'>,
    tenantId: string,
    id: string,
  ): Promise<AppleEnrollment> {
    const enrollment = /^[0-9a-v]{26}$/.test(id) ? await stores.appleEnrollments.get(tenantId, id) : undefined
    if (!enrollment) throw new AppError('not_found', `Apple enrollment "${id}" does not exist`)
    return enrollment
  }

  /** A device's `UnlockToken`, sealed for its enrollment alone. */
  #sealUnlockToken(tenantId: string, enrollmentId: string, token: Uint8Array): string {
    return this.#secretBox.seal(
      Buffer.from(token).toString('base64'),
      unlockTokenContext(tenantId, enrollmentId),
    )
  }

  /**
   * A command as the device gets it. Secrets stay out of the stored command (and so out of the
   * admin API) and are added only to what is sent: the `UnlockToken` of `ClearPasscode`, and the
   * profile of a renewal's `InstallProfile`.
   */
  #asSent(queued: AppleCommand, enrollment: AppleEnrollment): PlistDict {
    const { command } = queued
    const renewal = enrollment.renewal
    if (renewal?.commandUUID === queued.commandUUID) {
      const profile = this.#secretBox.open(
        renewal.sealedProfile,
        renewalContext(enrollment.tenantId, enrollment.id),
      )
      return { ...command, Payload: Buffer.from(profile, 'base64') }
    }
    if (!needsUnlockToken(command) || enrollment.sealedUnlockToken === undefined) return command
    const token = this.#secretBox.open(
      enrollment.sealedUnlockToken,
      unlockTokenContext(enrollment.tenantId, enrollment.id),
    )
    return { ...command, UnlockToken: Buffer.from(token, 'base64') }
  }

  /**
   * The message's bearer token, then, for an enrollment whose profile asked for signed messages,
   * its `Mdm-Signature`. Both are checked outside the transaction that acts on the message
   * (verifying may load signing keys).
   */
  async #authorize(
    tenant: Tenant,
    enrollmentId: string,
    message: MdmMessage,
    options: { lenient: boolean },
  ): Promise<AuthorizedMessage> {
    const config = await this.#configs.find(tenant.id)
    if (!config) throw new AppError('not_found', 'Apple enrollment is not configured for this tenant')
    const bearer = await this.#authorizer.authorize(tenant, config, message.authorization, options)
    const enrollment = await this.#store.appleEnrollments.get(tenant.id, enrollmentId)
    if (enrollment?.identitySHA256 === undefined) return { config, bearer, enrollment, signedWith: undefined }
    const { identitySHA256, identityNotAfter, renewal } = enrollment
    const signedWith = await checkMessageSignature(message.signature, message.body, [
      identitySHA256,
      ...(renewal ? [renewal.sha256] : []),
    ])
    // An expired identity signs nothing but the device's leaving (`CheckOut`).
    const expired = identityNotAfter !== undefined && identityNotAfter <= this.#clock.now()
    if (signedWith === identitySHA256 && expired && !options.lenient)
      throw new AppError('forbidden', 'the device identity has expired: enroll the device again')
    return { config, bearer, enrollment, signedWith }
  }

  /**
   * The bearer token must be the enrollment's person's; a token of a new family (after a new
   * sign-in) becomes the enrollment's family. The device must be the enrollment's: its UDID or
   * `EnrollmentID`, once reported, may not change.
   */
  async #enrollmentFor(
    stores: Stores,
    tenant: Tenant,
    enrollmentId: string,
    authorized: AuthorizedMessage,
    message: PlistDict,
  ): Promise<{ enrollment: AppleEnrollment; userChannel: boolean }> {
    const { config, bearer } = authorized
    const enrollment = await this.#enrollment(stores, tenant.id, enrollmentId)
    if (enrollment.status === 'checked_out')
      throw new AppError('forbidden', 'the device has left this enrollment')
    if (bearer.profileId !== enrollment.profileId)
      throw new AppError('forbidden', 'the token belongs to another person than the enrollment')
    await this.#authorizer.assertStillActive(stores, tenant, config, bearer)
    if (bearer.grant && bearer.grantId !== enrollment.grantId)
      await stores.appleEnrollments.update(
        tenant.id,
        enrollment.id,
        { grantId: bearer.grantId },
        this.#clock.now(),
      )
    const facts = reportedFacts(message)
    if (facts.udid === undefined && facts.userEnrollmentId === undefined)
      throw invalid('the message names no device (UDID or EnrollmentID)')
    const mismatch =
      (facts.udid !== undefined &&
        enrollment.device.udid !== undefined &&
        facts.udid !== enrollment.device.udid) ||
      (facts.userEnrollmentId !== undefined &&
        enrollment.device.userEnrollmentId !== undefined &&
        facts.userEnrollmentId !== enrollment.device.userEnrollmentId)
    if (mismatch) throw invalid('the message comes from another device than this enrollment')
    return { enrollment, userChannel: isUserChannel(message) }
  }
}

/** An `UnlockToken` is a few hundred bytes; anything much larger is not one. */
const maxUnlockTokenBytes = 4096

/** `ClearPasscode` without an `UnlockToken` of the administrator's own. */
function needsUnlockToken(command: PlistDict): boolean {
  return command.RequestType === 'ClearPasscode' && command.UnlockToken === undefined
}

function unlockTokenContext(tenantId: string, enrollmentId: string): string {
  return `apple-unlock-token:${tenantId}:${enrollmentId}`
}

function renewalContext(tenantId: string, enrollmentId: string): string {
  return `apple-identity-renewal:${tenantId}:${enrollmentId}`
}

/** A message of a Mac's user channel: commands and renewals go to the device channel. */
function isUserChannel(message: PlistDict): boolean {
  return ['UserID', 'EnrollmentUserID', 'UserShortName'].some((key) => message[key] !== undefined)
}

/** What an administrator's renewal needs: Onramp's identity, a device still enrolled, no renewal under way. */
function assertRenewable(enrollment: AppleEnrollment): void {
  if (enrollment.identitySHA256 === undefined)
    throw new AppError(
      'conflict',
      'the device’s identity is not one Onramp issued (PKCS #12): it renews it itself',
    )
  if (enrollment.status === 'checked_out')
    throw new AppError('conflict', 'the device has left this enrollment')
  if (enrollment.renewal)
    throw new AppError('conflict', `a renewal is under way (command ${enrollment.renewal.commandUUID})`)
}

/** Onramp's identity (PKCS #12), of known expiry, close to it, and no renewal under way. */
function renewalDue(enrollment: AppleEnrollment, now: number): boolean {
  const { identitySHA256, identityNotAfter, renewal, status } = enrollment
  return (
    identitySHA256 !== undefined &&
    identityNotAfter !== undefined &&
    renewal === undefined &&
    status !== 'checked_out' &&
    identityNotAfter - now <= identityRenewalWindow
  )
}

/**
 * The device's answer to a renewal's `InstallProfile`: installed, the new identity is the
 * enrollment's; refused, the renewal ends (an administrator, or the next connection near expiry,
 * starts another); postponed, it stays under way.
 */
function renewalAnswered(renewal: AppleIdentityRenewal, status: AppleCommandStatus): AppleEnrollmentPatch {
  if (status === 'Acknowledged') return { identity: identityOf(renewal), renewal: null }
  if (status === 'Error' || status === 'CommandFormatError') return { renewal: null }
  return {}
}

function identityOf(renewal: AppleIdentityRenewal) {
  return { serial: renewal.serial, sha256: renewal.sha256, notAfter: renewal.notAfter }
}

function parseMessage(body: Uint8Array): PlistDict {
  try {
    return parsePlistDict(body)
  } catch (error) {
    if (error instanceof PlistError) throw invalid(error.message)
    throw error
  }
}

/** What check-in and server messages report about the device; only present keys are set. */
function reportedFacts(message: PlistDict): Partial<AppleDeviceFacts> {
  const facts: Partial<AppleDeviceFacts> = {
    udid: text(message, 'UDID', 128),
    userEnrollmentId: text(message, 'EnrollmentID', 128),
    serialNumber: text(message, 'SerialNumber', 64),
    product: text(message, 'ProductName', 64),
    osBuild: text(message, 'BuildVersion', 64),
    osVersion: text(message, 'OSVersion', 64),
  }
  return Object.fromEntries(Object.entries(facts).filter(([, value]) => value !== undefined))
}

/** A string of the message; a wrong type is the client's mistake (400). */
function text(message: PlistDict, key: string, maxLength?: number): string | undefined {
  try {
    return plistString(message, key, maxLength)
  } catch (error) {
    if (error instanceof PlistError) throw invalid(error.message)
    throw error
  }
}

function data(message: PlistDict, key: string): Uint8Array | undefined {
  try {
    return plistData(message, key)
  } catch (error) {
    if (error instanceof PlistError) throw invalid(error.message)
    throw error
  }
}

function invalid(message: string): AppError {
  return new AppError('invalid_input', message)
}
