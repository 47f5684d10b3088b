import type { OfflineLoginEvent } from '../events.ts'
import type { ResolvedOptions } from '../options.ts'
import type { DPoPNonces } from './dpop-nonces.ts'
import { eraseEnrollment } from './enrollment.ts'
import { withEnrollmentLock } from './enrollment-lock.ts'
import type { EnrollmentRecord, EnrollmentStore } from './enrollment-record.ts'
import { SdkFailure } from './sdk-failure.ts'
import { openSecrets, unlockKey } from './secret-vault.ts'
import { TokenEndpoint } from './token-endpoint.ts'
import { TokenManager } from './token-manager.ts'

export interface OfflineLoginContext {
  options: ResolvedOptions
  store: EnrollmentStore
  nonces: DPoPNonces
  onRefreshed: (expiresAt: number) => void
}

/** A wrong password that did not lock the enrollment out yet. */
export class WrongPassword extends SdkFailure {
  readonly remainingAttempts: number

  constructor(remainingAttempts: number) {
    super('WrongPassword', `wrong password; ${remainingAttempts} attempts left`)
    this.remainingAttempts = remainingAttempts
  }
}

/** Failures that mean the server could not be asked, not that it said no. */
const unreachable = new Set(['NetworkError', 'Timeout', 'ServerError', 'RateLimited'])

/**
 * Unlocks the enrollment and logs in: the cached access token while it is fresh (no server
 * needed), else a refresh. A server that cannot be reached does not stop the login; the token is
 * refreshed when it is next needed.
 *
 * Wrong passwords are counted in the record, so the count survives restarts; at the limit the
 * enrollment is erased (`LockedOut`). Erasing, rather than refusing for a while, is what makes
 * the limit hold: the count lives on the same device as the ciphertext.
 */
export async function offlineLogin(
  record: EnrollmentRecord,
  event: OfflineLoginEvent,
  context: OfflineLoginContext,
): Promise<{ tokens: TokenManager; isOffline: boolean }> {
  const { options, store } = context
  if (event.userIdentifier !== undefined && event.userIdentifier !== record.userIdentifier)
    throw new SdkFailure('UnknownUser', 'no enrollment of this user here')
  if (record.authenticationMode !== 'password' && event.password !== undefined)
    throw new SdkFailure('InvalidInput', `mode ${record.authenticationMode} takes no password`)
  if (record.failedAttempts >= options.maxPasswordAttempts) {
    await eraseEnrollment(record, context)
    throw new SdkFailure('LockedOut', 'too many wrong passwords; the enrollment was erased')
  }

  const vaultKey = await unlockKey(record.protection, {
    ...(event.password !== undefined && { password: event.password }),
    ...(options.biometricProvider && { biometricProvider: options.biometricProvider }),
  })
  const secrets = await openSecrets(record, vaultKey, record.sealed)
  if (!secrets) {
    if (record.protection.mode !== 'password')
      throw new SdkFailure('InternalError', 'the biometric key no longer opens the enrollment')
    const failedAttempts = await countFailedAttempts(record, (count) => count + 1, context)
    if (failedAttempts >= options.maxPasswordAttempts) {
      await eraseEnrollment(record, context)
      throw new SdkFailure('LockedOut', 'too many wrong passwords; the enrollment was erased')
    }
    throw new WrongPassword(options.maxPasswordAttempts - failedAttempts)
  }

  const deviceKey = await options.keyStore.openKey(secrets.deviceKey)
  if (!deviceKey) {
    await eraseEnrollment(record, context)
    throw new SdkFailure('SessionExpired', 'the device key is gone; enroll again')
  }
  if (record.failedAttempts > 0) await countFailedAttempts(record, () => 0, context)

  const tokens = new TokenManager({
    record: { ...record, failedAttempts: 0 },
    secrets,
    vaultKey,
    deviceKey,
    store,
    lock: options.lock,
    endpoint: new TokenEndpoint({
      issuer: record.issuer,
      clientId: record.clientId,
      fetch: options.fetch,
      nonces: context.nonces,
      clock: options.clock,
      timeout: options.timeout,
    }),
    clock: options.clock,
    expirySkew: options.expirySkew,
    onRefreshed: context.onRefreshed,
  })
  if (tokens.isAccessTokenFresh()) return { tokens, isOffline: true }
  try {
    await tokens.refresh()
    return { tokens, isOffline: false }
  } catch (error) {
    if (error instanceof SdkFailure && unreachable.has(error.status)) return { tokens, isOffline: true }
    throw error
  }
}

/**
 * Changes the wrong-password count of the stored record, holding the namespace's lock: the
 * record may have changed since the login read it (another tab or process rotated the refresh
 * token, or counted an attempt too), and writing the login's copy back would undo that.
 * The new count; the enrollment is gone (`SessionExpired`) when another context erased or
 * replaced it meanwhile.
 */
async function countFailedAttempts(
  record: EnrollmentRecord,
  change: (count: number) => number,
  context: OfflineLoginContext,
): Promise<number> {
  return withEnrollmentLock(context.options.lock, async () => {
    const latest = await context.store.load()
    if (latest?.deviceId !== record.deviceId)
      throw new SdkFailure(
        'SessionExpired',
        'the enrollment was deleted or replaced in another tab or process',
      )
    const failedAttempts = change(latest.failedAttempts)
    await context.store.save({ ...latest, failedAttempts })
    return failedAttempts
  })
}
