import type { Authentication, PendingRoundTrip } from './authentication-method.ts'

/** The forms of the `authenticating` step. */
export type LoginScreen = 'sign_in' | 'sign_up'

export interface AuthenticatingState {
  step: 'authenticating'
  screen: LoginScreen
  /**
   * The browser was sent away (to an upstream provider), or runs a ceremony (a passkey), and is
   * expected back with these.
   */
  roundTrip?: PendingRoundTrip
}

/**
 * The person signed in another way, and their account has no passkey yet: they are offered one
 * before the login ends. Adding it or declining ends the login as `authentication` says.
 */
export interface OfferingPasskeyState {
  step: 'offering_passkey'
  authentication: Authentication
  /** The passkey's registration ceremony, once the page began it. */
  roundTrip?: PendingRoundTrip
}

/** The states an interaction is stored in: the others end it. */
export type OngoingLoginState = AuthenticatingState | OfferingPasskeyState

/**
 * Where one hosted-login interaction stands. It starts `authenticating` (showing the sign-in or
 * the sign-up form), may offer a passkey (`offering_passkey`), and ends `authenticated` (a code
 * goes to the client) or `cancelled` (`access_denied` goes to the client). The end states are
 * never stored: reaching one completes the interaction and deletes it.
 */
export type LoginState =
  | OngoingLoginState
  | { step: 'authenticated'; authentication: Authentication }
  | { step: 'cancelled' }

export type LoginEvent =
  /** The person switches between the sign-in and the sign-up form. */
  | { type: 'show'; screen: LoginScreen }
  /** An authentication method reported success. */
  | { type: 'authenticated'; authentication: Authentication }
  /** The person gave up: the client gets `access_denied`. */
  | { type: 'cancel' }
  /** A method sent the browser away; only the latest round trip can come back. */
  | { type: 'redirected'; roundTrip: PendingRoundTrip }
  /** A method began a ceremony in the page (a passkey's challenge); only the latest one can be answered. */
  | { type: 'challenged'; roundTrip: PendingRoundTrip }
  /** The browser came back (whatever it brought): the round trip is used up. */
  | { type: 'returned' }
  /** Signed in, by a way other than a passkey, to an account without one: offer it one. */
  | { type: 'offer_passkey'; authentication: Authentication }
  /** The offered passkey was added, or declined: the login ends as it was authenticated. */
  | { type: 'continue' }

export class InvalidLoginTransition extends Error {
  constructor(state: LoginState, event: LoginEvent) {
    super(`no transition from ${state.step} on ${event.type}`)
    this.name = 'InvalidLoginTransition'
  }
}

/** `prompt=create` (OpenID Connect Prompt Create 1.0) opens the sign-up form first. */
export function initialLoginState(options: { create: boolean }): AuthenticatingState {
  return { step: 'authenticating', screen: options.create ? 'sign_up' : 'sign_in' }
}

/** The state machine: every allowed transition is listed here, anything else throws. */
export function transition(state: LoginState, event: LoginEvent): LoginState {
  if (state.step === 'authenticating') {
    switch (event.type) {
      case 'show':
        return { ...state, screen: event.screen }
      case 'redirected':
      case 'challenged':
        return { ...state, roundTrip: event.roundTrip }
      case 'returned':
        return { step: 'authenticating', screen: state.screen }
      case 'authenticated':
        return { step: 'authenticated', authentication: event.authentication }
      case 'offer_passkey':
        return { step: 'offering_passkey', authentication: event.authentication }
      case 'cancel':
        return { step: 'cancelled' }
    }
  }
  if (state.step === 'offering_passkey') {
    switch (event.type) {
      case 'challenged':
        return { ...state, roundTrip: event.roundTrip }
      case 'returned':
        return { step: 'offering_passkey', authentication: state.authentication }
      case 'continue':
        return { step: 'authenticated', authentication: state.authentication }
      case 'cancel':
        return { step: 'cancelled' }
    }
  }
  throw new InvalidLoginTransition(state, event)
}
