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

export type RejectionReason =
  | 'invalid_input'
  | 'invalid_credentials'
  | 'conflict'
  | 'locked'
  | 'rate_limited'
  /** The upstream provider said no (the person declined, or it refused the request). */
  | 'upstream_denied'
  /** The upstream provider could not be reached or answered wrongly, or the round trip did not match. */
  | 'upstream_failed'

/** Why a method did not authenticate, worded for the person at the form. */
export interface Rejection {
  reason: RejectionReason
  message: string
  fieldErrors: FieldError[]
  /** With `locked` and `rate_limited`: seconds until trying again makes sense. */
  retryAfter?: number
}

/**
 * A round trip the browser makes before the method can decide: `pending` is kept with the
 * interaction (server-side) and handed back to `resume` when the browser returns.
 */
export interface RoundTrip {
  location: string
  pending: PendingRoundTrip
}

export interface PendingRoundTrip {
  method: string
  /** What the browser's return must match, e.g. the `state` sent upstream. */
  values: Readonly<Record<string, string>>
}

export type MethodResult =
  | { status: 'authenticated'; authentication: Authentication }
  | { status: 'rejected'; rejection: Rejection }
  | { status: 'redirect'; roundTrip: RoundTrip }

export interface ResumeInput {
  tenant: Tenant
  pending: PendingRoundTrip
  /** The URL the browser came back to, with its query. */
  returnURL: URL
}

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
 * the person submitted and moves on when a method reports an authentication. A method that needs
 * the browser to go somewhere first (an upstream provider) answers `redirect`, and `resume` gets
 * the browser's return.
 */
export interface AuthenticationMethod {
  readonly id: string
  readonly actions: readonly string[]
  authenticate(input: MethodInput): Promise<MethodResult>
  resume?(input: ResumeInput): Promise<MethodResult>
}
