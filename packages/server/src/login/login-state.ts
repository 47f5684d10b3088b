import type { Authentication } from './authentication-method.ts'

/** The forms of the `authenticating` step. */
export type LoginScreen = 'sign_in' | 'sign_up'

export interface AuthenticatingState {
  step: 'authenticating'
  screen: LoginScreen
}

/**
 * Where one hosted-login interaction stands. It starts `authenticating` (showing the sign-in or
 * the sign-up form) and ends `authenticated` (a code goes to the client) or `cancelled`
 * (`access_denied` goes to the client). The end states are never stored: reaching one completes
 * the interaction and deletes it.
 */
export type LoginState =
  | AuthenticatingState
  | { step: 'authenticated'; authentication: Authentication }
  | { step: 'cancelled' }

export type LoginEvent =
  /** The person switches between the sign-in and the sign-up form. */
  | { type: 'show'; screen: LoginScreen }
  /** An authentication method reported success. */
  | { type: 'authenticated'; authentication: Authentication }
  /** The person gave up: the client gets `access_denied`. */
  | { type: 'cancel' }

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
        return { step: 'authenticating', screen: event.screen }
      case 'authenticated':
        return { step: 'authenticated', authentication: event.authentication }
      case 'cancel':
        return { step: 'cancelled' }
    }
  }
  throw new InvalidLoginTransition(state, event)
}
