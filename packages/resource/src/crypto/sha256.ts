import { createHash } from 'node:crypto'

/** base64url(SHA-256(value)): the `ath` of RFC 9449 and Onramp's `ebh`. */
export function sha256Base64url(value: string): string {
  return createHash('sha256').update(value).digest('base64url')
}
