import { type Algorithm, hash, verify } from '@node-rs/argon2'

/**
 * Argon2id with the parameters OWASP recommends as a minimum (19 MiB, 2 passes, 1 lane). The
 * package's `Algorithm` is a const enum that has no runtime value: 2 is Argon2id.
 */
const options = { algorithm: 2 as Algorithm, memoryCost: 19_456, timeCost: 2, parallelism: 1 }

export function hashPassword(password: string): Promise<string> {
  return hash(password, options)
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password)
  } catch {
    // A malformed stored hash matches no password.
    return false
  }
}

let dummy: Promise<string> | undefined

/**
 * Verifies `password` against a hash no password matches, taking as long as a real check: a
 * sign-in with an unknown email costs what one with a known email does, so timing does not
 * tell which emails have accounts.
 */
export async function verifyDummyPassword(password: string): Promise<false> {
  dummy ??= hashPassword(`dummy:${crypto.randomUUID()}`)
  await verifyPassword(await dummy, password)
  return false
}
