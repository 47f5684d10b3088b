import { base64url } from 'jose'

export function randomBytes(length: number): Uint8Array<ArrayBuffer> {
  return crypto.getRandomValues(new Uint8Array(length))
}

/** A random base64url identifier of `bytes` bytes of entropy. */
export function randomId(bytes = 16): string {
  return base64url.encode(randomBytes(bytes))
}
