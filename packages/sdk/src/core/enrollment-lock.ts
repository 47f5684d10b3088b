import type { Lock } from '../adapters/lock.ts'
import { SdkFailure } from './sdk-failure.ts'

/** The lock every context of a namespace holds while it changes the enrollment record. */
export const EnrollmentLockName = 'enrollment'

/**
 * `work` holding the namespace's enrollment lock. Not getting the lock (another tab or process
 * held it past the adapter's timeout, or the adapter failed) is `StorageError`; whatever `work`
 * throws passes through as it is.
 */
export async function withEnrollmentLock<T>(lock: Lock, work: () => Promise<T>): Promise<T> {
  let isHeld = false
  try {
    return await lock.withLock(EnrollmentLockName, () => {
      isHeld = true
      return work()
    })
  } catch (error) {
    if (isHeld) throw error
    const reason = error instanceof Error ? `: ${error.message}` : ''
    throw new SdkFailure('StorageError', `the enrollment could not be locked${reason}`, { cause: error })
  }
}
