import type { Lock } from '../lock.ts'

export interface WebLocksLockOptions {
  /** Scopes the lock names: lock `name` is the Web Lock `{scope}/{name}`. `onramp-sdk/onramp` by default. */
  scope?: string
  /** Milliseconds to wait for the lock before giving up; 60,000 by default. */
  timeout?: number
  /** `navigator.locks` by default (workers have it too). */
  locks?: LockManager
}

/**
 * A lock shared by every tab, worker and frame of the origin: an exclusive Web Lock
 * (`navigator.locks.request(name, { mode: 'exclusive' }, …)`). The browser releases it when the
 * holder's work settles or its tab closes, so no lock outlives its holder. Waiting is bounded by
 * `timeout`, after which the request is withdrawn and `withLock` rejects (`TimeoutError`).
 */
export class WebLocksLock implements Lock {
  readonly #scope: string
  readonly #timeout: number
  readonly #locks: LockManager | undefined

  constructor(options: WebLocksLockOptions = {}) {
    this.#scope = options.scope ?? 'onramp-sdk/onramp'
    this.#timeout = options.timeout ?? 60_000
    this.#locks = options.locks ?? globalThis.navigator?.locks
    if (!(this.#timeout >= 0)) throw new RangeError('timeout must be zero or more milliseconds')
  }

  async withLock<T>(name: string, work: () => Promise<T>): Promise<T> {
    if (!this.#locks) throw new Error('this browser has no Web Locks (navigator.locks)')
    const lockName = `${this.#scope}/${name}`
    const waiting = new AbortController()
    const timer = setTimeout(() => {
      const message = `${lockName} was held elsewhere for more than ${this.#timeout} ms`
      waiting.abort(new DOMException(message, 'TimeoutError'))
    }, this.#timeout)
    try {
      // Aborting once the lock is granted does nothing, so the timeout bounds the wait only.
      return await this.#locks.request(lockName, { mode: 'exclusive', signal: waiting.signal }, work)
    } finally {
      clearTimeout(timer)
    }
  }
}
