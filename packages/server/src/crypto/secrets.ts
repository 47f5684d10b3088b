import { createHash, randomBytes, randomFillSync, timingSafeEqual } from 'node:crypto'

// Identifiers are drawn from a pool filled 4 KiB at a time: one getrandom call per 256 ids
// instead of one per id, on the token endpoint's hot path.
const pool = Buffer.alloc(4096)
let poolOffset = pool.length

/** A 256-bit random token, base64url: refresh tokens, client secrets, identifiers. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url')
}

/** A shorter random identifier (128 bits) for records that are not secrets. */
export function randomId(): string {
  if (poolOffset + 16 > pool.length) {
    randomFillSync(pool)
    poolOffset = 0
  }
  const id = pool.toString('base64url', poolOffset, poolOffset + 16)
  poolOffset += 16
  return id
}

/**
 * Hash of a high-entropy secret that we generated ourselves (refresh tokens, client secrets):
 * SHA-256 suffices because guessing the input is infeasible; passwords use Argon2id instead.
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url')
}

export function sha256Base64url(value: string): string {
  return createHash('sha256').update(value).digest('base64url')
}

export function secretMatchesHash(secret: string, hash: string): boolean {
  const actual = Buffer.from(hashSecret(secret))
  const expected = Buffer.from(hash)
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}
