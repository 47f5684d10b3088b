import { randomBytes, randomFillSync, timingSafeEqual } from 'node:crypto'
import { sha256Base64url } from '@onramp/crypto'

// Random bytes are drawn from a pool filled 4 KiB at a time: one call into OpenSSL's generator
// per hundred-odd tokens and ids instead of one each (~2.5 µs a call), on the token endpoint's hot
// path. Every byte is used once.
const pool = Buffer.alloc(4096)
let poolOffset = pool.length

/** A 256-bit random token, base64url: refresh tokens, client secrets, identifiers. */
export function randomToken(bytes = 32): string {
  return (bytes <= pool.length ? pooledRandom(bytes) : randomBytes(bytes)).toString('base64url')
}

/** A shorter random identifier (128 bits) for records that are not secrets. */
export function randomId(): string {
  return pooledRandom(16).toString('base64url')
}

const base32Alphabet = '0123456789abcdefghijklmnopqrstuv'

/**
 * A 128-bit identifier that sorts by creation time: 48 bits of milliseconds, then 80 random
 * bits, in base32hex (whose alphabet is in ASCII order). Rows keyed by it are appended at the
 * end of their indexes instead of landing on a random page each, so SQLite writes a few pages per
 * batch of enrollments rather than one per row and index. It reveals when the record was made,
 * to the millisecond, and nothing else.
 */
export function timeOrderedId(): string {
  const bytes = Buffer.allocUnsafe(16)
  bytes.writeUIntBE(Date.now(), 0, 6)
  pooledRandom(10).copy(bytes, 6)
  let out = ''
  let buffer = 0
  let bits = 0
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte
    bits += 8
    while (bits >= 5) {
      bits -= 5
      out += base32Alphabet[(buffer >>> bits) & 31]
    }
    buffer &= (1 << bits) - 1
  }
  return bits > 0 ? out + base32Alphabet[(buffer << (5 - bits)) & 31] : out
}

function pooledRandom(size: number): Buffer {
  if (poolOffset + size > pool.length) {
    randomFillSync(pool)
    poolOffset = 0
  }
  const slice = pool.subarray(poolOffset, poolOffset + size)
  poolOffset += size
  return slice
}

/**
 * Hash of a high-entropy secret that we generated ourselves (refresh tokens, client secrets):
 * SHA-256 suffices because guessing the input is infeasible; passwords use Argon2id instead.
 */
export function hashSecret(secret: string): string {
  return sha256Base64url(secret)
}

export function secretMatchesHash(secret: string, hash: string): boolean {
  const actual = Buffer.from(hashSecret(secret))
  const expected = Buffer.from(hash)
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}
