import type { AuthenticationMode } from '@onramp/protocol'
import { base64url } from 'jose'
import type { BiometricProvider } from '../adapters/biometric-provider.ts'
import { deriveBiometricKey, derivePasswordKey } from '../crypto/key-derivation.ts'
import { randomBytes } from '../crypto/random.ts'
import { openJSON, sealJSON } from '../crypto/secret-box.ts'
import {
  type EnrollmentRecord,
  isVaultSecrets,
  type Protection,
  type SealedSecrets,
  sealingContext,
  type VaultSecrets,
} from './enrollment-record.ts'
import { SdkFailure } from './sdk-failure.ts'

/** The key that seals an enrollment's secrets: none in mode `no`. */
export type VaultKey = CryptoKey | undefined

export interface ProtectionInput {
  password?: string
  biometricProvider?: BiometricProvider
  /** PBKDF2 iterations for a new password. */
  iterations: number
  /** Shown by the authenticator for a new biometric credential. */
  label: string
}

/**
 * The protection of a new enrollment and its key. Runs before anything is sent to the server, so
 * a user who refuses biometric verification leaves nothing behind.
 */
export async function createProtection(
  mode: AuthenticationMode,
  input: ProtectionInput,
): Promise<{ protection: Protection; key: VaultKey }> {
  switch (mode) {
    case 'no':
      return { protection: { mode }, key: undefined }
    case 'password': {
      if (!input.password) throw new SdkFailure('InvalidInput', 'mode password needs a password')
      const salt = randomBytes(16)
      const key = await derivePasswordKey(input.password, { salt, iterations: input.iterations })
      return { protection: { mode, salt: base64url.encode(salt), iterations: input.iterations }, key }
    }
    case 'biometric': {
      const provider = requireProvider(input.biometricProvider)
      const salt = randomBytes(32)
      const registration = await provider.createCredential({ salt, label: input.label })
      if (registration.status === 'Denied')
        throw new SdkFailure('BiometricDenied', 'the user did not pass verification')
      if (registration.status === 'Unavailable')
        throw new SdkFailure('BiometricUnavailable', 'no biometric authenticator is available')
      return {
        protection: { mode, credentialId: registration.credentialId, salt: base64url.encode(salt) },
        key: await deriveBiometricKey(registration.keyMaterial, salt),
      }
    }
  }
}

/** The key of an existing enrollment, from the password or after biometric verification. */
export async function unlockKey(
  protection: Protection,
  input: { password?: string; biometricProvider?: BiometricProvider },
): Promise<VaultKey> {
  switch (protection.mode) {
    case 'no':
      return undefined
    case 'password':
      if (!input.password) throw new SdkFailure('InvalidInput', 'this enrollment needs its password')
      return derivePasswordKey(input.password, {
        salt: base64url.decode(protection.salt),
        iterations: protection.iterations,
      })
    case 'biometric': {
      const salt = base64url.decode(protection.salt)
      const outcome = await requireProvider(input.biometricProvider).getKeyMaterial({
        credentialId: protection.credentialId,
        salt,
      })
      if (outcome.status === 'Denied')
        throw new SdkFailure('BiometricDenied', 'the user did not pass verification')
      if (outcome.status === 'Unavailable')
        throw new SdkFailure('BiometricUnavailable', 'the biometric credential is not available')
      return deriveBiometricKey(outcome.keyMaterial, salt)
    }
  }
}

type SealingTarget = Pick<EnrollmentRecord, 'tenantId' | 'clientId' | 'deviceId'>

export async function sealSecrets(
  target: SealingTarget,
  key: VaultKey,
  secrets: VaultSecrets,
): Promise<SealedSecrets> {
  if (key === undefined) return { format: 'plain', secrets }
  const box = await sealJSON(key, secrets, sealingContext(target))
  return { format: 'aes-256-gcm', ...box }
}

/** The secrets, or undefined when the key does not open them (a wrong password). */
export async function openSecrets(
  target: SealingTarget,
  key: VaultKey,
  sealed: SealedSecrets,
): Promise<VaultSecrets | undefined> {
  if (sealed.format === 'plain') return sealed.secrets
  if (key === undefined) return undefined
  const value = await openJSON(key, sealed, sealingContext(target))
  if (value === undefined) return undefined
  if (!isVaultSecrets(value)) throw new SdkFailure('StorageError', 'the sealed secrets are damaged')
  return value
}

function requireProvider(provider: BiometricProvider | undefined): BiometricProvider {
  if (!provider) throw new SdkFailure('BiometricUnavailable', 'no biometric provider is configured')
  return provider
}
