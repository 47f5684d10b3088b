import { createHash } from 'node:crypto'

/** base64url(SHA-256(value)): RFC 9449's `ath`, and Onramp's `ebh`. */
export function sha256Base64url(value: string | Buffer): string {
  return createHash('sha256').update(value).digest('base64url')
}
