import { base64url } from 'jose'
import type { JsonValue } from '../adapters/storage.ts'
import { randomBytes } from './random.ts'

/** AES-256-GCM ciphertext, base64url parts. */
export type SealedBox = { iv: string; ciphertext: string }

const encoder = new TextEncoder()

/**
 * Encrypts a JSON value with AES-256-GCM under `key`. `context` is bound as additional data, so
 * a box cannot be moved to another record and still open.
 */
export async function sealJSON(key: CryptoKey, value: JsonValue, context: string): Promise<SealedBox> {
  const iv = randomBytes(12)
  const ciphertext = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: encoder.encode(context) },
    key,
    encoder.encode(JSON.stringify(value)),
  )
  return { iv: base64url.encode(iv), ciphertext: base64url.encode(new Uint8Array(ciphertext)) }
}

/** The value sealed in the box, or undefined when the key is wrong or the box was altered. */
export async function openJSON(
  key: CryptoKey,
  box: SealedBox,
  context: string,
): Promise<JsonValue | undefined> {
  let plaintext: ArrayBuffer
  try {
    plaintext = await crypto.subtle.decrypt(
      {
        name: 'AES-GCM',
        iv: base64url.decode(box.iv) as Uint8Array<ArrayBuffer>,
        additionalData: encoder.encode(context),
      },
      key,
      base64url.decode(box.ciphertext) as Uint8Array<ArrayBuffer>,
    )
  } catch {
    return undefined
  }
  return JSON.parse(new TextDecoder().decode(plaintext)) as JsonValue
}
