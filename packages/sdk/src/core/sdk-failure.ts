import type { FailureStatus } from '../events.ts'

/**
 * An expected failure inside the SDK, carrying the status its event's result reports. Thrown
 * between the SDK's own layers only: the master controller turns it into a result.
 */
export class SdkFailure extends Error {
  readonly status: FailureStatus
  /** The OAuth `error` code, when the failure is a server's OAuth error response. */
  readonly oauthError: string | undefined

  constructor(status: FailureStatus, detail: string, options?: { oauthError?: string; cause?: unknown }) {
    super(detail, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'SdkFailure'
    this.status = status
    this.oauthError = options?.oauthError
  }
}

/** A failure of `fetch` itself: `Timeout` when our deadline aborted it, else `NetworkError`. */
export function transportFailure(error: unknown, what: string): SdkFailure {
  if (error instanceof SdkFailure) return error
  const isAbort = error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError')
  return isAbort
    ? new SdkFailure('Timeout', `${what} timed out`, { cause: error })
    : new SdkFailure('NetworkError', `${what} could not be reached`, { cause: error })
}
