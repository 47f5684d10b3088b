/** Where the SDK is in its life cycle. */
export const SdkStates = ['Uninitialised', 'ActivationRequired', 'LoginRequired', 'LoggedIn'] as const

export type SdkState = (typeof SdkStates)[number]

/** The events the master controller accepts, by their `type`. */
export const SdkEventTypes = [
  'Start',
  'EnrollAnonymousUser',
  'OfflineLogin',
  'ExchangeIamToken',
  'CreateHttpCommonRequest',
  'ClearIamTokenCache',
  'Login',
  'LoginCallback',
  'Restart',
  'GetSdkState',
] as const

export type SdkEventType = (typeof SdkEventTypes)[number]

/**
 * The transition table: for each state, the events it accepts and the states each of them may
 * lead to. An event missing from a state's row is answered `InvalidState` without being handled.
 *
 * - `Start` reads local state once: `ActivationRequired` when nothing is enrolled,
 *   `LoginRequired` when an enrollment waits to be unlocked, `Uninitialised` again when the start
 *   failed (storage unreadable) or the app must update (`UpdateNecessary`).
 * - `OfflineLogin` may fall back to `ActivationRequired` when a lockout erased the enrollment or
 *   the server no longer accepts its refresh token; so may every call that refreshes tokens.
 * - `Login` and `LoginCallback` (progressive sign-in) need an unlocked enrollment; they keep the
 *   state (the identity changes, reported by `IdentityChanged`), unless a refresh finds the
 *   session ended.
 * - `Restart` forgets everything in memory and reads storage again (another instance may have
 *   enrolled or deleted the enrollment meanwhile); if storage cannot be read, the SDK needs
 *   `Start` again.
 */
const transitions: { readonly [S in SdkState]: Partial<Record<SdkEventType, readonly SdkState[]>> } = {
  Uninitialised: {
    Start: ['Uninitialised', 'ActivationRequired', 'LoginRequired'],
    GetSdkState: ['Uninitialised'],
  },
  ActivationRequired: {
    EnrollAnonymousUser: ['ActivationRequired', 'LoggedIn'],
    ClearIamTokenCache: ['ActivationRequired'],
    Restart: ['ActivationRequired', 'LoginRequired', 'Uninitialised'],
    GetSdkState: ['ActivationRequired'],
  },
  LoginRequired: {
    OfflineLogin: ['LoginRequired', 'LoggedIn', 'ActivationRequired'],
    ClearIamTokenCache: ['LoginRequired', 'ActivationRequired'],
    Restart: ['ActivationRequired', 'LoginRequired', 'Uninitialised'],
    GetSdkState: ['LoginRequired'],
  },
  LoggedIn: {
    ExchangeIamToken: ['LoggedIn', 'ActivationRequired'],
    CreateHttpCommonRequest: ['LoggedIn', 'ActivationRequired'],
    ClearIamTokenCache: ['LoggedIn', 'LoginRequired', 'ActivationRequired'],
    Login: ['LoggedIn', 'ActivationRequired'],
    LoginCallback: ['LoggedIn', 'ActivationRequired'],
    Restart: ['ActivationRequired', 'LoginRequired', 'Uninitialised'],
    GetSdkState: ['LoggedIn'],
  },
}

/** Whether `state` accepts the event. */
export function isAccepted(state: SdkState, event: SdkEventType): boolean {
  return transitions[state][event] !== undefined
}

/** The events a state accepts, in table order. */
export function acceptedEvents(state: SdkState): SdkEventType[] {
  return SdkEventTypes.filter((event) => isAccepted(state, event))
}

/** The states `event` may lead to from `state`; empty when the state does not accept it. */
export function targetStates(state: SdkState, event: SdkEventType): readonly SdkState[] {
  return transitions[state][event] ?? []
}

export interface SdkStateChange {
  from: SdkState
  to: SdkState
  trigger: SdkEventType
}

/** The SDK's one current state; moves only along the transition table. */
export class SdkStateMachine {
  #state: SdkState = 'Uninitialised'
  readonly #onChange: (change: SdkStateChange) => void

  constructor(onChange: (change: SdkStateChange) => void) {
    this.#onChange = onChange
  }

  get state(): SdkState {
    return this.#state
  }

  accepts(event: SdkEventType): boolean {
    return isAccepted(this.#state, event)
  }

  /**
   * Moves to `to` as the outcome of `trigger`. A move the table does not list is a bug in the
   * SDK, never a user error, so it throws.
   */
  transition(trigger: SdkEventType, to: SdkState): void {
    const from = this.#state
    if (!targetStates(from, trigger).includes(to))
      throw new Error(`no transition from ${from} to ${to} on ${trigger}`)
    this.#state = to
    if (from !== to) this.#onChange({ from, to, trigger })
  }
}
