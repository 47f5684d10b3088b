import type { JsonObject } from './storage.ts'

/** A device key as a key store created it. */
export interface DeviceKey {
  /** ECDSA P-256. The private key signs DPoP proofs and may be non-extractable. */
  keyPair: CryptoKeyPair
  /**
   * What the SDK keeps, sealed with the enrollment's other secrets (so protected per
   * authentication mode), to open the key again on a later launch: the private JWK for a software
   * key store, a reference for platform stores that hold keys themselves (IndexedDB, Keychain).
   */
  record: JsonObject
}

/**
 * Where the device key lives. The SDK keeps one device key per namespace: enrollment creates it,
 * offline login opens it, and deleting the enrollment (or a lockout) deletes it.
 */
export interface KeyStore {
  /** Keys are kept in hardware (secure element, TPM): enrollment sends `hardware_key=true`. */
  readonly isHardwareBacked: boolean
  createKey(): Promise<DeviceKey>
  /** The key pair of a record `createKey` made, or undefined when the key is gone. */
  openKey(record: JsonObject): Promise<CryptoKeyPair | undefined>
  /** Deletes every key this store holds for the namespace. */
  deleteKeys(): Promise<void>
}
