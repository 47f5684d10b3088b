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

  constructor(options: {
    store: Store
    clock: Clock
    configs: AppleConfigManager
    authorizer: AppleAuthorizer
    push: PushNotifier
    /** Seals the devices' `UnlockToken`s. */
    secretBox: SecretBox
  }) {
    this.#store = options.store
    this.#clock = options.clock
    this.#configs = options.configs
    this.#authorizer = options.authorizer
    this.#push = options.push
    this.#secretBox = options.secretBox
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
      const patch: AppleEnrollmentPatch = { lastSeenAt: now }
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
    return this.#store.transaction(async (stores) => {
      const { enrollment, userChannel } = await this.#enrollmentFor(
        stores,
        tenant,
        enrollmentId,
        authorized,
        message,
      )
      await stores.appleEnrollments.update(tenant.id, enrollment.id, { lastSeenAt: now }, now)
      if (status !== 'Idle' && commandUUID) {
        const recorded = await stores.appleCommands.recordResult(tenant.id, enrollment.id, commandUUID, {
          status: status as AppleCommandStatus,
          report: buildPlist(message),
          at: now,
        })
        if (!recorded) throw invalid(`command ${commandUUID} was not sent to this enrollment`)
      }
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
        Command: this.#withUnlockToken(next.command, enrollment),
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
   * `ClearPasscode` as the device gets it: Onramp keeps the device's `UnlockToken` out of the
   * stored command (and so out of the admin API) and adds it only to what it sends.
   */
  #withUnlockToken(command: PlistDict, enrollment: AppleEnrollment): PlistDict {
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
  ): Promise<{ config: AppleConfig; bearer: AppleBearer }> {
    const config = await this.#configs.find(tenant.id)
    if (!config) throw new AppError('not_found', 'Apple enrollment is not configured for this tenant')
    const bearer = await this.#authorizer.authorize(tenant, config, message.authorization, options)
    const enrollment = await this.#store.appleEnrollments.get(tenant.id, enrollmentId)
    if (enrollment?.identitySHA256 !== undefined)
      await checkMessageSignature(message.signature, message.body, enrollment.identitySHA256)
    return { config, bearer }
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
    authorized: { config: AppleConfig; bearer: AppleBearer },
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
    const userChannel = ['UserID', 'EnrollmentUserID', 'UserShortName'].some(
      (key) => message[key] !== undefined,
    )
    return { enrollment, userChannel }
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
