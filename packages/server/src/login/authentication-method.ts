import type { Tenant } from '../store/tenant-store.ts'

/** What a completed sign-in proves: an identity (a provider's subject), and how it was shown. */
export interface Authentication {
  /** `local`, and next `passkey` and `oidc:{name}`: the `identities` provider. */
  provider: string
  subject: string
  acr: string
  /** RFC 8176 method references, e.g. `pwd`. */
  amr: string[]
  /** Seconds since the epoch. */
  authTime: number
}

export interface FieldError {
  /** The form field's name. */
  field: string
  message: string
}

export type RejectionReason = 'invalid_input' | 'invalid_credentials' | 'conflict' | 'locked' | 'rate_limited'

/** Why a method did not authenticate, worded for the person at the form. */
export interface Rejection {
  reason: RejectionReason
  message: string
  fieldErrors: FieldError[]
  /** With `locked` and `rate_limited`: seconds until trying again makes sense. */
  retryAfter?: number
}

export type MethodResult =
  | { status: 'authenticated'; authentication: Authentication }
  | { status: 'rejected'; rejection: Rejection }

export interface MethodInput {
  tenant: Tenant
  /** One of the method's `actions`. */
  action: string
  /** The submitted form, without the CSRF token. */
  fields: Readonly<Record<string, string>>
  clientIP: string
}

/**
 * One way to sign in at the hosted login. The login state machine calls `authenticate` with what
 * the person submitted and moves on when a method reports an authentication. Passwords are the
 * first method; passkeys and upstream OpenID Connect providers plug in here next (they will add
 * results that ask the browser for a round trip: a WebAuthn ceremony, a redirect upstream).
 */
export interface AuthenticationMethod {
  readonly id: string
  readonly actions: readonly string[]
  authenticate(input: MethodInput): Promise<MethodResult>
}
