import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Authentication } from '../../src/login/authentication-method.ts'
import {
  InvalidLoginTransition,
  initialLoginState,
  type LoginEvent,
  type LoginState,
  transition,
} from '../../src/login/login-state.ts'

const authentication: Authentication = {
  provider: 'local',
  subject: 'ann@example.com',
  acr: '1',
  amr: ['pwd'],
  authTime: 1_767_225_600,
}

describe('the login state machine', () => {
  it('starts on the sign-in form, or on the sign-up form for prompt=create', () => {
    assert.deepEqual(initialLoginState({ create: false }), { step: 'authenticating', screen: 'sign_in' })
    assert.deepEqual(initialLoginState({ create: true }), { step: 'authenticating', screen: 'sign_up' })
  })

  it('switches forms, and ends authenticated or cancelled', () => {
    const start = initialLoginState({ create: false })
    const signUp = transition(start, { type: 'show', screen: 'sign_up' })
    assert.deepEqual(signUp, { step: 'authenticating', screen: 'sign_up' })
    assert.deepEqual(transition(signUp, { type: 'authenticated', authentication }), {
      step: 'authenticated',
      authentication,
    })
    assert.deepEqual(transition(start, { type: 'cancel' }), { step: 'cancelled' })
  })

  it('keeps the latest round trip while authenticating, and uses it up when the browser returns', () => {
    const start = initialLoginState({ create: false })
    const first = { method: 'oidc', values: { state: 'a' } }
    const second = { method: 'oidc', values: { state: 'b' } }
    const away = transition(transition(start, { type: 'redirected', roundTrip: first }), {
      type: 'redirected',
      roundTrip: second,
    })
    assert.deepEqual(away, { step: 'authenticating', screen: 'sign_in', roundTrip: second })
    assert.deepEqual(transition(away, { type: 'show', screen: 'sign_up' }), {
      step: 'authenticating',
      screen: 'sign_up',
      roundTrip: second,
    })
    assert.deepEqual(transition(away, { type: 'returned' }), start)
  })

  it('offers a passkey after signing in, keeps its ceremony, and ends as the sign-in did', () => {
    const start = initialLoginState({ create: false })
    const offered = transition(start, { type: 'offer_passkey', authentication })
    assert.deepEqual(offered, { step: 'offering_passkey', authentication })
    const roundTrip = { method: 'passkey', values: { challenge: 'c' } }
    const challenged = transition(offered, { type: 'challenged', roundTrip })
    assert.deepEqual(challenged, { step: 'offering_passkey', authentication, roundTrip })
    assert.deepEqual(transition(challenged, { type: 'returned' }), offered)
    assert.deepEqual(transition(challenged, { type: 'continue' }), { step: 'authenticated', authentication })
    assert.deepEqual(transition(offered, { type: 'cancel' }), { step: 'cancelled' })
    const other: LoginEvent[] = [
      { type: 'show', screen: 'sign_in' },
      { type: 'authenticated', authentication },
      { type: 'redirected', roundTrip },
      { type: 'offer_passkey', authentication },
    ]
    for (const event of other) assert.throws(() => transition(offered, event), InvalidLoginTransition)
    assert.throws(() => transition(start, { type: 'continue' }), InvalidLoginTransition)
  })

  it('refuses every event once the login has ended', () => {
    const ended: LoginState[] = [{ step: 'authenticated', authentication }, { step: 'cancelled' }]
    const events: LoginEvent[] = [
      { type: 'show', screen: 'sign_in' },
      { type: 'authenticated', authentication },
      { type: 'cancel' },
      { type: 'redirected', roundTrip: { method: 'oidc', values: {} } },
      { type: 'returned' },
      { type: 'offer_passkey', authentication },
      { type: 'continue' },
    ]
    for (const state of ended) {
      for (const event of events) assert.throws(() => transition(state, event), InvalidLoginTransition)
    }
  })
})
