import type { ApplePushTarget } from './apple-enrollment-store.ts'

/** Where the default notifier writes: a pino-compatible logger. */
export interface PushLog {
  info(fields: object, message: string): void
}

/**
 * Wakes a device so that it fetches its queued commands (an APNs MDM push with `mdm` set to the
 * push magic). Delivery failures must not fail the command: the device also checks in by itself.
 */
export interface PushNotifier {
  notify(
    target: ApplePushTarget,
    context: { tenantId: string; enrollmentId: string; log: PushLog },
  ): Promise<void>
}

/** The default until APNs delivery exists: records that a push would have been sent. */
export class LoggingPushNotifier implements PushNotifier {
  async notify(
    target: ApplePushTarget,
    context: { tenantId: string; enrollmentId: string; log: PushLog },
  ): Promise<void> {
    context.log.info(
      { tenant: context.tenantId, enrollment: context.enrollmentId, topic: target.topic },
      'APNs delivery is not configured: the device fetches the command at its next check-in',
    )
  }
}
