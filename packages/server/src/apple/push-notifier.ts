import { type ClientHttp2Session, connect } from 'node:http2'
import type { ApplePushTarget } from './apple-enrollment-store.ts'

/** Apple's two APNs environments: devices of production and of development MDM certificates. */
export const ApnsEnvironments = ['production', 'sandbox'] as const
export type ApnsEnvironment = (typeof ApnsEnvironments)[number]

/** Apple's APNs provider API hosts. */
export const apnsOrigins: Readonly<Record<ApnsEnvironment, string>> = {
  production: 'https://api.push.apple.com',
  sandbox: 'https://api.sandbox.push.apple.com',
}

/** A tenant's MDM push certificate, opened for use: what a TLS client presents to APNs. */
export interface PushCredentials {
  environment: ApnsEnvironment
  certificatePEM: string
  privateKeyPEM: string
}

/** Where notifiers write: a pino-compatible logger. */
export interface PushLog {
  info(fields: object, message: string): void
  warn(fields: object, message: string): void
}

/** Which device a push is for, with what certificate, and where to report. */
export interface PushContext {
  tenantId: string
  enrollmentId: string
  credentials: PushCredentials | undefined
  log: PushLog
}

/**
 * What became of a push: `sent`; `not_configured` (no push certificate); `unregistered` (APNs
 * answered 410: the token is no longer valid for the topic, and must not be pushed to again);
 * `refused` (any other answer) or `failed` (no answer).
 */
export type PushOutcome = 'sent' | 'not_configured' | 'unregistered' | 'refused' | 'failed'

/**
 * Wakes a device so that it fetches its queued commands. Delivery failures must not fail the
 * command: the device also checks in by itself, so `notify` reports them to the log and says
 * what became of the push, never throwing.
 */
export interface PushNotifier {
  notify(target: ApplePushTarget, context: PushContext): Promise<PushOutcome>
}

/** How long one push may take, connection included, before it is given up. */
const pushTimeoutMilliseconds = 10_000
/** A tenant's connection to APNs is closed after this long without a push. */
const idleMilliseconds = 5 * 60_000

/**
 * Apple's MDM push over the APNs provider API (HTTP/2, certificate-based): `POST
 * /3/device/{push token}` with `apns-push-type: mdm`, the topic of the push certificate, and
 * `{"mdm": PushMagic}` as the body. One connection per push certificate is kept open while it is
 * used, as Apple asks of providers. Without credentials it logs that the device will fetch the
 * command at its next check-in.
 */
export class ApnsPushNotifier implements PushNotifier {
  readonly #origins: Readonly<Record<ApnsEnvironment, string>>
  readonly #ca: string[] | undefined
  readonly #sessions = new Map<string, ClientHttp2Session>()

  /** `origins` and `ca` point it at a stand-in for APNs (an egress proxy, a test server). */
  constructor(options: { origins?: Readonly<Record<ApnsEnvironment, string>>; ca?: string[] } = {}) {
    this.#origins = options.origins ?? apnsOrigins
    this.#ca = options.ca
  }

  async notify(target: ApplePushTarget, context: PushContext): Promise<PushOutcome> {
    const fields = { tenant: context.tenantId, enrollment: context.enrollmentId, topic: target.topic }
    if (!context.credentials) {
      context.log.info(
        fields,
        'no APNs push certificate: the device fetches the command at its next check-in',
      )
      return 'not_configured'
    }
    try {
      const { status, apnsId, reason } = await this.#push(target, context.credentials)
      if (status === 200) {
        context.log.info({ ...fields, apnsId }, 'APNs accepted the push')
        return 'sent'
      }
      context.log.warn({ ...fields, status, reason }, 'APNs refused the push')
      return status === 410 ? 'unregistered' : 'refused'
    } catch (error) {
      context.log.warn({ ...fields, error: (error as Error).message }, 'APNs push failed')
      return 'failed'
    }
  }

  /** Closes every open connection to APNs. */
  close(): void {
    for (const session of this.#sessions.values()) session.close()
    this.#sessions.clear()
  }

  #push(
    target: ApplePushTarget,
    credentials: PushCredentials,
  ): Promise<{ status: number; apnsId: string | undefined; reason: string | undefined }> {
    const session = this.#session(credentials)
    return new Promise((resolve, reject) => {
      const request = session.request({
        ':method': 'POST',
        ':path': `/3/device/${target.token}`,
        'apns-topic': target.topic,
        'apns-push-type': 'mdm',
        'apns-priority': '10',
        'content-type': 'application/json',
      })
      request.setTimeout(pushTimeoutMilliseconds, () => request.close())
      const chunks: Buffer[] = []
      let status = 0
      let apnsId: string | undefined
      request.on('response', (headers) => {
        status = Number(headers[':status'])
        const id = headers['apns-id']
        apnsId = typeof id === 'string' ? id : undefined
      })
      request.on('data', (chunk: Buffer) => chunks.push(chunk))
      // A stream closes after its end, or early when reset or timed out: either way, it is done.
      request.on('close', () => {
        if (status === 0) reject(new Error('APNs did not answer'))
        else resolve({ status, apnsId, reason: reasonOf(Buffer.concat(chunks)) })
      })
      request.on('error', reject)
      request.end(JSON.stringify({ mdm: target.magic }))
    })
  }

  #session(credentials: PushCredentials): ClientHttp2Session {
    const origin = this.#origins[credentials.environment]
    const key = `${origin} ${credentials.certificatePEM}`
    const open = this.#sessions.get(key)
    if (open && !open.closed && !open.destroyed) return open
    const session = connect(origin, {
      cert: credentials.certificatePEM,
      key: credentials.privateKeyPEM,
      ...(this.#ca && { ca: this.#ca }),
    })
    const forget = () => {
      if (this.#sessions.get(key) === session) this.#sessions.delete(key)
    }
    session.on('close', forget)
    session.on('goaway', forget)
    // Failures reach the pending request; a connection error with none pending only ends it.
    session.on('error', forget)
    session.setTimeout(idleMilliseconds, () => session.close())
    // An idle connection does not keep the process alive.
    session.unref()
    this.#sessions.set(key, session)
    return session
  }
}

/** APNs answers errors as `{"reason": "BadDeviceToken"}`. */
function reasonOf(body: Buffer): string | undefined {
  if (body.length === 0) return undefined
  try {
    const reason = (JSON.parse(body.toString()) as { reason?: unknown }).reason
    return typeof reason === 'string' ? reason.slice(0, 100) : undefined
  } catch {
    return undefined
  }
}
