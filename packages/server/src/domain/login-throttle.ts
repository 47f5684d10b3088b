import type { EphemeralStore } from '../ephemeral/ephemeral-store.ts'
import { defaultLoginLockout, type LoginLockout } from '../store/tenant-store.ts'

export interface LoginThrottleLimits {
  /** Failures for one email address, from anywhere; a tenant's `loginLockout` replaces it. */
  account: LoginLockout
  /** Failures from one client IP, whatever the email addresses. */
  ip: LoginLockout
}

export const defaultLoginThrottleLimits: LoginThrottleLimits = {
  account: defaultLoginLockout,
  ip: { failures: 50, windowSeconds: 15 * 60, lockSeconds: 15 * 60 },
}

/**
 * Lockout after repeated failed sign-ins, per account and per client IP, with its counters in the
 * ephemeral store so every node of a cluster shares them. Accounts are counted by email whether
 * or not they exist, so a lock reveals nothing about which emails have accounts.
 */
export class LoginThrottle {
  readonly #store: EphemeralStore
  readonly #limits: LoginThrottleLimits

  constructor(store: EphemeralStore, limits: LoginThrottleLimits = defaultLoginThrottleLimits) {
    this.#store = store
    this.#limits = limits
  }

  /** Seconds until the account or the IP may try again; undefined when neither is locked. */
  async lockedFor(tenantId: string, email: string, clientIP: string): Promise<number | undefined> {
    const now = Date.now() / 1000
    const until = await Promise.all([
      this.#store.get(key('lock', 'account', tenantId, email)),
      this.#store.get(key('lock', 'ip', tenantId, clientIP)),
    ])
    const remaining = until.filter((u) => u !== undefined).map((u) => Math.ceil(Number(u) - now))
    return remaining.length > 0 ? Math.max(1, ...remaining) : undefined
  }

  /** Counts a failure; locks the account or the IP that reached its limit. */
  async recordFailure(
    tenantId: string,
    email: string,
    clientIP: string,
    accountLimit: LoginLockout = this.#limits.account,
  ): Promise<void> {
    await Promise.all([
      this.#count('account', tenantId, email, accountLimit),
      this.#count('ip', tenantId, clientIP, this.#limits.ip),
    ])
  }

  /** A successful sign-in clears the account's failures (not the IP's). */
  async recordSuccess(tenantId: string, email: string): Promise<void> {
    await this.#store.delete(key('failures', 'account', tenantId, email))
  }

  async #count(
    scope: 'account' | 'ip',
    tenantId: string,
    subject: string,
    limit: LoginLockout,
  ): Promise<void> {
    const failures = await this.#store.increment(
      key('failures', scope, tenantId, subject),
      limit.windowSeconds,
    )
    if (failures < limit.failures) return
    const until = Math.ceil(Date.now() / 1000) + limit.lockSeconds
    await this.#store.set(key('lock', scope, tenantId, subject), String(until), limit.lockSeconds)
    await this.#store.delete(key('failures', scope, tenantId, subject))
  }
}

function key(kind: 'failures' | 'lock', scope: 'account' | 'ip', tenantId: string, subject: string): string {
  return `login:${kind}:${scope}:${tenantId}:${subject}`
}
