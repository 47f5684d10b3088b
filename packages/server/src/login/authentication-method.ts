import type { Tenant } from '../store/tenant-store.ts'

/** What a completed sign-in proves: an identity (a provider's subject), and how it was shown. */
export interface Authentication {
  /** `local`, `passkey` or `oidc:{name}`: the `identities` provider. */
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
  /** With `upstream_failed`: what went wrong, for the server's log (never shown to the person). */
  detail?: string
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
  /** What the method's `begin` kept with the interaction, if this method began a ceremony. */
  pending?: PendingRoundTrip | undefined
}

export interface BeginInput {
  tenant: Tenant
  /** One of the method's `actions`. */
  action: string
  /** What the page sent along, e.g. the name to show for a new passkey. */
  fields: Readonly<Record<string, string>>
  /**
   * For a passkey added to a signed-in account: the user handles of the passkeys it has, so an
   * authenticator that holds one of them makes no second (WebAuthn `excludeCredentials`).
   */
  accountPasskeyHandles?: readonly string[]
}

/**
 * A ceremony the browser runs before it submits (WebAuthn): `options` go to the page's script,
 * `pending` (the challenge) is kept with the interaction and handed to `authenticate`.
 */
export interface Ceremony {
  options: unknown
  pending: PendingRoundTrip
}

/**
 * One way to sign in at the hosted login. The login state machine calls `authenticate` with what
 * the person submitted and moves on when a method reports an authentication. A method that needs
 * the browser to go somewhere first (an upstream provider) answers `redirect`, and `resume` gets
 * the browser's return. A method that needs the browser to compute something first (a passkey)
 * implements `begin`: its challenge is kept with the interaction until the form comes back.
 */
export interface AuthenticationMethod {
  readonly id: string
  readonly actions: readonly string[]
  authenticate(input: MethodInput): Promise<MethodResult>
  resume?(input: ResumeInput): Promise<MethodResult>
  /** Starts a ceremony in the browser; the submission that follows gets what it kept as `pending`. */
  begin?(input: BeginInput): Promise<Ceremony>
}
