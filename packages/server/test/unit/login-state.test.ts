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

  it('refuses every event once the login has ended', () => {
    const ended: LoginState[] = [{ step: 'authenticated', authentication }, { step: 'cancelled' }]
    const events: LoginEvent[] = [
      { type: 'show', screen: 'sign_in' },
      { type: 'authenticated', authentication },
      { type: 'cancel' },
    ]
    for (const state of ended) {
      for (const event of events) assert.throws(() => transition(state, event), InvalidLoginTransition)
    }
  })
})
