/** OWASP's 2023 floor for PBKDF2-HMAC-SHA-256; the SDK refuses fewer. */
export const MinimumPBKDF2Iterations = 600_000

export interface PBKDF2Parameters {
  salt: Uint8Array
  iterations: number
}

const encoder = new TextEncoder()
const vaultKeyAlgorithm: AesKeyGenParams = { name: 'AES-GCM', length: 256 }

/**
 * The AES-256-GCM key that seals an enrollment's secrets in mode `password`: PBKDF2-HMAC-SHA-256
 * over the password in Unicode NFC (so the same password typed on another keyboard still
 * matches). The key is non-extractable.
 */
export async function derivePasswordKey(password: string, parameters: PBKDF2Parameters): Promise<CryptoKey> {
  if (!Number.isInteger(parameters.iterations) || parameters.iterations < MinimumPBKDF2Iterations)
    throw new RangeError(`PBKDF2 needs at least ${MinimumPBKDF2Iterations} iterations`)
  if (parameters.salt.length < 16) throw new RangeError('PBKDF2 salt must be at least 16 bytes')
  const material = await crypto.subtle.importKey(
    'raw',
    encoder.encode(password.normalize('NFC')),
    'PBKDF2',
    false,
    ['deriveKey'],
  )
  return crypto.subtle.deriveKey(
    {
      name: 'PBKDF2',
      hash: 'SHA-256',
      salt: parameters.salt as Uint8Array<ArrayBuffer>,
      iterations: parameters.iterations,
    },
    material,
    vaultKeyAlgorithm,
    false,
    ['encrypt', 'decrypt'],
  )
}

/**
 * The AES-256-GCM key that seals an enrollment's secrets in mode `biometric`: HKDF-SHA-256 over
 * the 32 bytes a biometric credential released (WebAuthn PRF output or a platform-held secret).
 */
export async function deriveBiometricKey(keyMaterial: Uint8Array, salt: Uint8Array): Promise<CryptoKey> {
  if (keyMaterial.length !== 32) throw new RangeError('biometric key material must be 32 bytes')
  const material = await crypto.subtle.importKey(
    'raw',
    keyMaterial as Uint8Array<ArrayBuffer>,
    'HKDF',
    false,
    ['deriveKey'],
  )
  return crypto.subtle.deriveKey(
    {
      name: 'HKDF',
      hash: 'SHA-256',
      salt: salt as Uint8Array<ArrayBuffer>,
      info: encoder.encode('onramp-sdk biometric vault key v1'),
    },
    material,
    vaultKeyAlgorithm,
    false,
    ['encrypt', 'decrypt'],
  )
}
