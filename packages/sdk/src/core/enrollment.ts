import { GrantType, isAuthenticationMode, type TokenResponse } from '@onramp/protocol'
import { readJWTClaims } from '../crypto/jwt.ts'
import type { EnrollAnonymousUserEvent } from '../events.ts'
import type { ResolvedOptions } from '../options.ts'
import type { DPoPNonces } from './dpop-nonces.ts'
import type { EnrollmentRecord, EnrollmentStore, VaultSecrets } from './enrollment-record.ts'
import { forgetPendingLogin } from './progressive-login.ts'
import { SdkFailure } from './sdk-failure.ts'
import { createProtection, sealSecrets } from './secret-vault.ts'
import { TokenEndpoint } from './token-endpoint.ts'
import { TokenManager } from './token-manager.ts'

export interface EnrollmentContext {
  options: ResolvedOptions
  store: EnrollmentStore
  nonces: DPoPNonces
  onRefreshed: (expiresAt: number) => void
}

const tenantIdPattern = /^[a-z0-9][a-z0-9-]{0,62}$/
const clientIdPattern = /^[A-Za-z0-9._~-]{1,128}$/

/**
 * Anonymous enrollment: protect (password, biometric verification) first, then create the device
 * key, enroll with a DPoP proof of it, and save the tokens sealed under the mode's key in one
 * write. Whatever fails on the way leaves nothing stored.
 */
export async function enrollAnonymousUser(
  event: EnrollAnonymousUserEvent,
  context: EnrollmentContext,
): Promise<TokenManager> {
  const { options } = context
  if (typeof event.tenantId !== 'string' || !tenantIdPattern.test(event.tenantId))
    throw new SdkFailure('InvalidInput', 'tenantId is not a tenant id')
  if (typeof event.clientId !== 'string' || !clientIdPattern.test(event.clientId))
    throw new SdkFailure('InvalidInput', 'clientId is not a client id')
  const mode = event.authenticationMode
  if (!isAuthenticationMode(mode))
    throw new SdkFailure('InvalidInput', 'authenticationMode must be no, password or biometric')
  if (mode !== 'password' && event.password !== undefined)
    throw new SdkFailure('InvalidInput', `mode ${mode} takes no password`)

  const { protection, key: vaultKey } = await createProtection(mode, {
    ...(event.password !== undefined && { password: event.password }),
    ...(options.biometricProvider && { biometricProvider: options.biometricProvider }),
    iterations: options.pbkdf2Iterations,
    label: event.clientId,
  })
  const issuer = `${options.serverUrl}/t/${event.tenantId}`
  const endpoint = new TokenEndpoint({
    issuer,
    clientId: event.clientId,
    fetch: options.fetch,
    nonces: context.nonces,
    clock: options.clock,
    timeout: options.timeout,
  })
  const { keyStore } = options
  const deviceKey = await keyStore.createKey()
  try {
    const response = await endpoint.request(
      {
        grant_type: GrantType.anonymous,
        authentication_mode: mode,
        ...(keyStore.isHardwareBacked && { hardware_key: 'true' }),
        ...(options.scope !== undefined && { scope: options.scope }),
      },
      deviceKey.keyPair,
    )
    const { userIdentifier, refreshToken, deviceId } = enrollmentOf(response)
    const now = options.clock.now()
    const secrets: VaultSecrets = {
      refreshToken,
      accessToken: response.access_token,
      accessTokenReceivedAt: now,
      accessTokenExpiresAt: now + response.expires_in * 1000,
      deviceKey: deviceKey.record,
    }
    const target = { tenantId: event.tenantId, clientId: event.clientId, deviceId }
    const record: EnrollmentRecord = {
      version: 1,
      issuer,
      ...target,
      userIdentifier,
      authenticationMode: mode,
      hardwareKey: keyStore.isHardwareBacked,
      ...(response.scope !== undefined && { scope: response.scope }),
      enrolledAt: now,
      protection,
      sealed: await sealSecrets(target, vaultKey, secrets),
      failedAttempts: 0,
    }
    await context.store.save(record)
    return new TokenManager({
      record,
      secrets,
      vaultKey,
      deviceKey: deviceKey.keyPair,
      store: context.store,
      lock: options.lock,
      endpoint,
      clock: options.clock,
      expirySkew: options.expirySkew,
      onRefreshed: context.onRefreshed,
    })
  } catch (error) {
    await keyStore.deleteKeys().catch(() => {})
    if (protection.mode === 'biometric')
      await options.biometricProvider?.deleteCredential?.(protection.credentialId).catch(() => {})
    throw error
  }
}

function enrollmentOf(response: TokenResponse): {
  userIdentifier: string
  refreshToken: string
  deviceId: string
} {
  const subject = readJWTClaims(response.access_token)?.sub
  if (typeof subject !== 'string' || !response.refresh_token || !response.device_id)
    throw new SdkFailure('ServerError', 'the enrollment answer lacks the subject, refresh token or device')
  return { userIdentifier: subject, refreshToken: response.refresh_token, deviceId: response.device_id }
}

/**
 * Erases an enrollment: its record, the device key and the biometric credential. Only the record
 * must go; the rest is best effort (the key store or authenticator may be gone already). When
 * another tab or process has replaced the enrollment with a new one, that one is left alone.
 */
export async function eraseEnrollment(
  record: EnrollmentRecord,
  context: { store: EnrollmentStore; options: ResolvedOptions },
): Promise<void> {
  const stored = await context.store.load().catch(() => undefined)
  if (stored !== undefined && stored.deviceId !== record.deviceId) return
  await context.store.delete()
  await forgetPendingLogin(context.options)
  await context.options.keyStore.deleteKeys().catch(() => {})
  if (record.protection.mode === 'biometric')
    await context.options.biometricProvider
      ?.deleteCredential?.(record.protection.credentialId)
      .catch(() => {})
}
