import { hashPassword, verifyDummyPassword, verifyPassword } from '../crypto/passwords.ts'
import type { LocalAccount } from '../store/local-account-store.ts'
import type { Store } from '../store/stores.ts'
import { loginLockoutOf, type Tenant } from '../store/tenant-store.ts'
import type { Clock } from './clock.ts'
import type { LoginThrottle } from './login-throttle.ts'
import type { RateLimiter } from './rate-limiter.ts'

/** NIST SP 800-63B §5.1.1: at least 8 characters; long passphrases welcome, up to a bound on hashing work. */
export const passwordLength = { min: 8, max: 256 } as const

/** Sign-ups per client IP and tenant per hour: each costs an Argon2 hash. */
const signUpLimit = { limit: 100, windowSeconds: 3600 }

export type SignInResult =
  | { status: 'authenticated'; email: string }
  | { status: 'invalid_credentials' }
  | { status: 'locked'; retryAfter: number }

export type SignUpResult =
  | { status: 'created'; email: string }
  | { status: 'email_taken' }
  | { status: 'rate_limited'; retryAfter: number }

/**
 * Email-and-password accounts. Passwords are hashed with Argon2id and never logged; sign-ins are
 * locked out after repeated failures; an unknown email costs the same work as a known one.
 */
export class LocalAccountManager {
  readonly #store: Store
  readonly #clock: Clock
  readonly #throttle: LoginThrottle
  readonly #rateLimiter: RateLimiter

  constructor(options: { store: Store; clock: Clock; throttle: LoginThrottle; rateLimiter: RateLimiter }) {
    this.#store = options.store
    this.#clock = options.clock
    this.#throttle = options.throttle
    this.#rateLimiter = options.rateLimiter
  }

  /** `email` and `password` must have passed `normalizeEmail` and `passwordProblem`. */
  async signUp(
    tenantId: string,
    input: { email: string; password: string; clientIP: string },
  ): Promise<SignUpResult> {
    const retryAfter = await this.#rateLimiter.hit([
      { key: `signup:ip:${tenantId}:${input.clientIP}`, limit: signUpLimit },
    ])
    if (retryAfter !== undefined) return { status: 'rate_limited', retryAfter }
    if (await this.#store.localAccounts.get(tenantId, input.email)) return { status: 'email_taken' }
    const created = await this.create(tenantId, input.email, input.password)
    return created ? { status: 'created', email: input.email } : { status: 'email_taken' }
  }

  /** Creates the account; false when the email is taken. */
  async create(tenantId: string, email: string, password: string): Promise<boolean> {
    const now = this.#clock.now()
    const account: LocalAccount = {
      tenantId,
      email,
      passwordHash: await hashPassword(password),
      createdAt: now,
      updatedAt: now,
    }
    return this.#store.localAccounts.createIfAbsent(account)
  }

  /** Checks the password, counting failures against the tenant's lockout. */
  async signIn(
    tenant: Tenant,
    input: { email: string; password: string; clientIP: string },
  ): Promise<SignInResult> {
    const tenantId = tenant.id
    const lockedFor = await this.#throttle.lockedFor(tenantId, input.email, input.clientIP)
    if (lockedFor !== undefined) return { status: 'locked', retryAfter: lockedFor }
    const account = await this.#store.localAccounts.get(tenantId, input.email)
    const valid = account
      ? await verifyPassword(account.passwordHash, input.password)
      : await verifyDummyPassword(input.password)
    if (!valid) {
      await this.#throttle.recordFailure(
        tenantId,
        input.email,
        input.clientIP,
        loginLockoutOf(tenant.settings),
      )
      const locked = await this.#throttle.lockedFor(tenantId, input.email, input.clientIP)
      return locked === undefined
        ? { status: 'invalid_credentials' }
        : { status: 'locked', retryAfter: locked }
    }
    await this.#throttle.recordSuccess(tenantId, input.email)
    return { status: 'authenticated', email: input.email }
  }
}

/**
 * The form of an email address that identifies an account: trimmed, Unicode NFC, lower case
 * (providers treat addresses case-insensitively in practice, and two accounts that differ only
 * in case would be a trap). Undefined when it is not an address.
 */
export function normalizeEmail(input: string): string | undefined {
  const email = input.trim().normalize('NFC').toLowerCase()
  if (email.length > 254) return undefined
  // One @, a non-empty local part, a domain with a dot; no spaces or control characters.
  return /^[^\s@\p{Cc}]{1,64}@[^\s@\p{Cc}]+\.[^\s@\p{Cc}]+$/u.test(email) ? email : undefined
}

/** Why a new password is not acceptable, or undefined. */
export function passwordProblem(password: string): string | undefined {
  const length = [...password].length
  if (length < passwordLength.min) return `Use at least ${passwordLength.min} characters.`
  if (length > passwordLength.max) return `Use at most ${passwordLength.max} characters.`
  return undefined
}
