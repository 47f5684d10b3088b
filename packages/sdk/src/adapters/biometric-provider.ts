/** What a user verification ended with. */
export type BiometricOutcome =
  /** The user was verified; the credential released its key material. */
  | { status: 'Approved'; keyMaterial: Uint8Array }
  /** The user failed or refused verification. */
  | { status: 'Denied' }
  /** No authenticator, none enrolled on the device, or the credential is gone. */
  | { status: 'Unavailable' }

/** A new credential: the first verification yields its key material too. */
export type BiometricRegistration =
  | { status: 'Approved'; credentialId: string; keyMaterial: Uint8Array }
  | { status: 'Denied' }
  | { status: 'Unavailable' }

/**
 * A platform authenticator that releases secret key material only after user verification, for
 * authentication mode `biometric`. Shaped after the WebAuthn PRF extension: a credential turns a
 * salt into 32 bytes of key material (`prf.eval.first`), the same bytes every time for the same
 * credential and salt; a native provider returns 32 random bytes it keeps behind a biometric
 * access control (Keychain, Android Keystore). The SDK derives the key that seals the
 * enrollment's secrets from them with HKDF and never stores them.
 */
export interface BiometricProvider {
  /** Creates a credential for a new enrollment and verifies the user. */
  createCredential(options: { salt: Uint8Array; label: string }): Promise<BiometricRegistration>
  /** Verifies the user and yields the credential's key material for `salt`. */
  getKeyMaterial(options: { credentialId: string; salt: Uint8Array }): Promise<BiometricOutcome>
  /** Forgets a credential when its enrollment is deleted, where the platform allows it. */
  deleteCredential?(credentialId: string): Promise<void>
}
