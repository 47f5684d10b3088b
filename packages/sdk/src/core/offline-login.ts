import type { OfflineLoginEvent } from '../events.ts'
import type { ResolvedOptions } from '../options.ts'
import type { DPoPNonces } from './dpop-nonces.ts'
import { eraseEnrollment } from './enrollment.ts'
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
    const failedAttempts = record.failedAttempts + 1
    if (failedAttempts >= options.maxPasswordAttempts) {
      await eraseEnrollment(record, context)
      throw new SdkFailure('LockedOut', 'too many wrong passwords; the enrollment was erased')
    }
    await store.save({ ...record, failedAttempts })
    throw new WrongPassword(options.maxPasswordAttempts - failedAttempts)
  }

  const deviceKey = await options.keyStore.openKey(secrets.deviceKey)
  if (!deviceKey) {
    await eraseEnrollment(record, context)
    throw new SdkFailure('SessionExpired', 'the device key is gone; enroll again')
  }
  const unlocked: EnrollmentRecord = { ...record, failedAttempts: 0 }
  if (record.failedAttempts > 0) await store.save(unlocked)

  const tokens = new TokenManager({
    record: unlocked,
    secrets,
    vaultKey,
    deviceKey,
    store,
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
