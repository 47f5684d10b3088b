import type { PlistDict } from './plist-values.ts'

/**
 * `queued` until a device fetches it, then `sent`, then what the device reported: `Acknowledged`,
 * `Error`, `CommandFormatError`, or `NotNow` (sent again at the next `Idle`).
 */
export const AppleCommandStatuses = [
  'queued',
  'sent',
  'Acknowledged',
  'Error',
  'CommandFormatError',
  'NotNow',
] as const
export type AppleCommandStatus = (typeof AppleCommandStatuses)[number]

/** An MDM command for one enrollment, and what became of it. */
export interface AppleCommand {
  /** Time-ordered: the queue is served in this order. */
  commandUUID: string
  tenantId: string
  enrollmentId: string
  requestType: string
  /** The `Command` dictionary, `RequestType` included. */
  command: PlistDict
  status: AppleCommandStatus
  /** The device's report, as the XML property list it sent. */
  result: string | undefined
  createdAt: number
  sentAt: number | undefined
  completedAt: number | undefined
}

export interface AppleCommandStore {
  get(tenantId: string, commandUUID: string): Promise<AppleCommand | undefined>
  /** The enrollment's commands, oldest first. */
  list(tenantId: string, enrollmentId: string): Promise<AppleCommand[]>
  create(command: AppleCommand): Promise<void>
  /** The oldest command of the enrollment in one of `statuses`. */
  next(
    tenantId: string,
    enrollmentId: string,
    statuses: readonly AppleCommandStatus[],
  ): Promise<AppleCommand | undefined>
  markSent(tenantId: string, commandUUID: string, at: number): Promise<void>
  /** Records the device's report; false unless the command belongs to the enrollment. */
  recordResult(
    tenantId: string,
    enrollmentId: string,
    commandUUID: string,
    result: { status: AppleCommandStatus; report: string; at: number },
  ): Promise<boolean>
}
