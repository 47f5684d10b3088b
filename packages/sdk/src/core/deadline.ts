import { SdkFailure } from './sdk-failure.ts'

/**
 * A time limit for one operation: an `AbortSignal` for the `fetch` calls it makes and a way to
 * bound waits it cannot abort (a token exchange shared with other callers). Built on
 * `AbortController` and `setTimeout` so it runs wherever `fetch` does.
 */
export class Deadline {
  readonly signal: AbortSignal
  readonly #controller = new AbortController()
  readonly #timer: ReturnType<typeof setTimeout> | undefined
  readonly #expired: Promise<never>

  constructor(milliseconds: number | undefined) {
    this.signal = this.#controller.signal
    this.#expired = new Promise<never>((_, reject) => {
      this.#controller.signal.addEventListener('abort', () =>
        reject(new SdkFailure('Timeout', `no answer within ${milliseconds} ms`)),
      )
    })
    this.#expired.catch(() => {})
    if (milliseconds !== undefined)
      this.#timer = setTimeout(() => this.#controller.abort(timeoutError()), milliseconds)
  }

  /** `work`, or a `Timeout` failure if the deadline passes first. */
  race<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.#expired])
  }

  /** Stops the timer; call when the operation is over. */
  clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
  }
}

function timeoutError(): Error {
  const error = new Error('the operation timed out')
  error.name = 'TimeoutError'
  return error
}
