import type { SigningAlgorithm } from '@onramp/crypto'

export type { SigningAlgorithm }

/**
 * What happens to an anonymous profile's attributes when the identity that signs in from it
 * already belongs to another profile: nothing (`none`), copy those the user's profile lacks
 * (`prefer-existing`), or copy all, replacing the user's values (`prefer-anonymous`).
 */
export const MergePolicies = ['none', 'prefer-existing', 'prefer-anonymous'] as const

export type MergePolicy = (typeof MergePolicies)[number]

/**
 * What the tenant's tokens are signed with: ES256 (the default), or Ed25519 — RFC 8037's EdDSA
 * with Ed25519, under its RFC 9864 name.
 */
export const SigningAlgorithms = ['ES256', 'Ed25519'] as const satisfies readonly SigningAlgorithm[]

export function signingAlgorithmOf(settings: TenantSettings): SigningAlgorithm {
  return settings.signingAlg ?? 'ES256'
}

/** Lockout of an account (an email address) after failed password sign-ins. */
export interface LoginLockout {
  /** Failed sign-ins within `windowSeconds` that lock. */
  failures: number
  windowSeconds: number
  /** How long a lock lasts. */
  lockSeconds: number
}

export const defaultLoginLockout: LoginLockout = { failures: 5, windowSeconds: 15 * 60, lockSeconds: 15 * 60 }

/** The most each field of a lockout may be (the least is 1): a lockout stays a lockout, up to a day. */
export const loginLockoutMaxima: LoginLockout = { failures: 1000, windowSeconds: 86400, lockSeconds: 86400 }

export function loginLockoutOf(settings: TenantSettings): LoginLockout {
  return settings.loginLockout ?? defaultLoginLockout
}

/** How much a profile's attributes may hold; a tenant without one has the defaults of `AttributeLimits`. */
export interface AttributeQuota {
  /** UTF-8 bytes of one value, serialized as compact JSON. */
  maxValueBytes: number
  /** Attributes per profile. */
  maxCount: number
  /** UTF-8 bytes of all the profile's values together. */
  maxTotalBytes: number
}

/** The most each bound of a quota may be (the least is 1): 1 MiB a value, 10,000 attributes, 16 MiB. */
export const attributeQuotaMaxima: AttributeQuota = {
  maxValueBytes: 1 << 20,
  maxCount: 10_000,
  maxTotalBytes: 1 << 24,
}

/** An upstream OpenID Connect provider people of the tenant can sign in with (identity provider `oidc:{name}`). */
export interface UpstreamProvider {
  /** Lower-case letters, digits and dashes; part of the callback URL and of the identity provider. */
  name: string
  issuer: string
  clientId: string
  /** Sealed under the master key (bound to the tenant and the name); absent for public clients. */
  sealedClientSecret?: string
  /** Always includes `openid`. */
  scopes: string[]
}

export interface TenantSettings {
  /** Access token lifetime, seconds. */
  accessTokenTtl: number
  /** A refresh token unused this long (seconds) expires; each rotation restarts the clock. */
  refreshTokenIdleTtl: number
  /** No refresh token of a grant outlives this (seconds from the first authentication). */
  refreshTokenAbsoluteTtl: number
  /** Require server-provided DPoP nonces (RFC 9449 §8) at the token endpoint. */
  dpopNonce: boolean
  /** Anonymous profiles unused this many days are deleted. */
  anonymousInactivityDays: number
  mergePolicy: MergePolicy
  /** Absent in settings stored before upstream providers existed: none. */
  upstreamProviders?: UpstreamProvider[]
  /** See `SigningAlgorithms`; absent (settings stored before it existed, or never set): ES256. */
  signingAlg?: SigningAlgorithm
  /** Absent (settings stored before it existed, or never set): `defaultLoginLockout`. */
  loginLockout?: LoginLockout
  /** Absent (settings stored before it existed, or never set): the defaults of `AttributeLimits`. */
  attributeQuota?: AttributeQuota
  /**
   * After a sign-in by password or an upstream provider, offer an account without a passkey to add
   * one. Absent: false.
   */
  offerPasskeys?: boolean
}

export interface Tenant {
  id: string
  name: string
  settings: TenantSettings
  createdAt: number
}

export interface TenantStore {
  get(id: string): Promise<Tenant | undefined>
  list(): Promise<Tenant[]>
  create(tenant: Tenant): Promise<void>
  update(id: string, patch: { name?: string; settings?: TenantSettings }): Promise<boolean>
  delete(id: string): Promise<boolean>
}
