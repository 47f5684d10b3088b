import { type AuthenticationMode, isAuthenticationMode } from '@onramp/protocol'
import type { JsonObject, Storage } from '../adapters/storage.ts'
import type { SdkUser } from '../events.ts'
import { SdkFailure } from './sdk-failure.ts'

/** The storage key of the enrollment: everything the SDK keeps is in this one record. */
export const EnrollmentRecordKey = 'enrollment'

/** How the secrets are sealed, and what it takes to get the key that opens them. */
export type Protection =
  | { mode: 'no' }
  /** PBKDF2-HMAC-SHA-256 of the password; `salt` base64url. */
  | { mode: 'password'; salt: string; iterations: number }
  /** HKDF-SHA-256 of the key material the credential releases for `salt` (base64url). */
  | { mode: 'biometric'; credentialId: string; salt: string }

/** What only an unlocked enrollment may read. */
export type VaultSecrets = {
  refreshToken: string
  accessToken?: string
  /** Milliseconds since the epoch. */
  accessTokenReceivedAt?: number
  accessTokenExpiresAt?: number
  /** The key store's record of the device key. */
  deviceKey: JsonObject
}

/** The secrets in the clear (mode `no`) or sealed with AES-256-GCM (base64url parts). */
export type SealedSecrets =
  | { format: 'plain'; secrets: VaultSecrets }
  | { format: 'aes-256-gcm'; iv: string; ciphertext: string }

/**
 * The enrollment as stored. A rotated refresh token, the access token that came with it and the
 * attempt counter all live in this one record, so each change is one atomic write.
 */
export type EnrollmentRecord = {
  version: 1
  issuer: string
  tenantId: string
  clientId: string
  userIdentifier: string
  deviceId: string
  authenticationMode: AuthenticationMode
  hardwareKey: boolean
  /** False once a person signed in; absent (anonymous) in records of older SDKs. */
  isAnonymous?: boolean
  scope?: string
  /** Milliseconds since the epoch. */
  enrolledAt: number
  protection: Protection
  sealed: SealedSecrets
  /** Wrong passwords in a row; survives restarts. */
  failedAttempts: number
}

/** The enrollment's record in the storage adapter; adapter failures become `StorageError`. */
export class EnrollmentStore {
  readonly #storage: Storage

  constructor(storage: Storage) {
    this.#storage = storage
  }

  async load(): Promise<EnrollmentRecord | undefined> {
    let value: unknown
    try {
      value = await this.#storage.get(EnrollmentRecordKey)
    } catch (error) {
      throw new SdkFailure('StorageError', 'the enrollment could not be read', { cause: error })
    }
    if (value === undefined) return undefined
    if (!isEnrollmentRecord(value))
      throw new SdkFailure('StorageError', 'the stored enrollment is damaged or of a newer SDK')
    return value
  }

  async save(record: EnrollmentRecord): Promise<void> {
    try {
      await this.#storage.set(EnrollmentRecordKey, record)
    } catch (error) {
      throw new SdkFailure('StorageError', 'the enrollment could not be saved', { cause: error })
    }
  }

  async delete(): Promise<void> {
    try {
      await this.#storage.delete(EnrollmentRecordKey)
    } catch (error) {
      throw new SdkFailure('StorageError', 'the enrollment could not be deleted', { cause: error })
    }
  }
}

/** Whether no person signed in on the enrollment yet. */
export function isAnonymous(record: EnrollmentRecord): boolean {
  return record.isAnonymous !== false
}

/** What a result may show of an enrollment. */
export function userOf(record: EnrollmentRecord): SdkUser {
  return {
    userIdentifier: record.userIdentifier,
    tenantId: record.tenantId,
    clientId: record.clientId,
    deviceId: record.deviceId,
    authenticationMode: record.authenticationMode,
    isAnonymous: isAnonymous(record),
    enrolledAt: record.enrolledAt,
  }
}

/** Additional data the secrets are sealed with: a sealed box opens only in its own enrollment. */
export function sealingContext(record: Pick<EnrollmentRecord, 'tenantId' | 'clientId' | 'deviceId'>): string {
  return `onramp-sdk vault v1\n${record.tenantId}\n${record.clientId}\n${record.deviceId}`
}

function isEnrollmentRecord(value: unknown): value is EnrollmentRecord {
  const record = value as Partial<EnrollmentRecord> | null
  if (typeof record !== 'object' || record === null || record.version !== 1) return false
  const strings = [record.issuer, record.tenantId, record.clientId, record.userIdentifier, record.deviceId]
  return (
    strings.every((s) => typeof s === 'string' && s.length > 0) &&
    isAuthenticationMode(record.authenticationMode) &&
    typeof record.hardwareKey === 'boolean' &&
    (record.isAnonymous === undefined || typeof record.isAnonymous === 'boolean') &&
    typeof record.enrolledAt === 'number' &&
    Number.isInteger(record.failedAttempts) &&
    isProtection(record.protection) &&
    record.protection.mode === record.authenticationMode &&
    isSealedSecrets(record.sealed)
  )
}

function isProtection(value: unknown): value is Protection {
  const protection = value as Record<string, unknown> | null
  switch (protection?.mode) {
    case 'no':
      return true
    case 'password':
      return typeof protection.salt === 'string' && Number.isInteger(protection.iterations)
    case 'biometric':
      return typeof protection.salt === 'string' && typeof protection.credentialId === 'string'
    default:
      return false
  }
}

function isSealedSecrets(value: unknown): value is SealedSecrets {
  const sealed = value as Record<string, unknown> | null
  if (sealed?.format === 'plain') return isVaultSecrets(sealed.secrets)
  return (
    sealed?.format === 'aes-256-gcm' && typeof sealed.iv === 'string' && typeof sealed.ciphertext === 'string'
  )
}

export function isVaultSecrets(value: unknown): value is VaultSecrets {
  const secrets = value as Partial<VaultSecrets> | null
  return (
    typeof secrets?.refreshToken === 'string' &&
    typeof secrets.deviceKey === 'object' &&
    secrets.deviceKey !== null &&
    (secrets.accessToken === undefined || typeof secrets.accessToken === 'string') &&
    (secrets.accessTokenExpiresAt === undefined || typeof secrets.accessTokenExpiresAt === 'number')
  )
}
