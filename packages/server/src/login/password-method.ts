import { PasswordACR } from '@onramp/protocol'
import type { Clock } from '../domain/clock.ts'
import { type LocalAccountManager, normalizeEmail, passwordProblem } from '../domain/local-account-manager.ts'
import type { AuthenticationMethod, FieldError, MethodInput, MethodResult } from './authentication-method.ts'

/** The `identities` provider of local accounts. */
export const localProvider = 'local'

/**
 * Local accounts: sign in with email and password, or sign up with them (and be signed in at
 * once). Authenticates the identity (`local`, normalised email) at `acr` 1 with `amr` `pwd`.
 */
export class PasswordMethod implements AuthenticationMethod {
  readonly id = 'password'
  readonly actions = ['sign_in', 'sign_up'] as const
  readonly #accounts: LocalAccountManager
  readonly #clock: Clock

  constructor(options: { accounts: LocalAccountManager; clock: Clock }) {
    this.#accounts = options.accounts
    this.#clock = options.clock
  }

  async authenticate(input: MethodInput): Promise<MethodResult> {
    const email = normalizeEmail(input.fields.email ?? '')
    const password = input.fields.password ?? ''
    const fieldErrors: FieldError[] = []
    if (!email)
      fieldErrors.push({ field: 'email', message: 'Enter an email address, like name@example.com.' })
    if (input.action === 'sign_up') {
      const problem = passwordProblem(password)
      if (problem) fieldErrors.push({ field: 'password', message: problem })
    } else if (password === '') {
      fieldErrors.push({ field: 'password', message: 'Enter your password.' })
    }
    if (!email || fieldErrors.length > 0) {
      return rejected({ reason: 'invalid_input', message: 'Check the fields marked below.', fieldErrors })
    }
    const credentials = { email, password, clientIP: input.clientIP }
    const tenantId = input.tenant.id

    if (input.action === 'sign_up') {
      const result = await this.#accounts.signUp(tenantId, credentials)
      switch (result.status) {
        case 'created':
          return this.#authenticated(result.email)
        case 'email_taken':
          return rejected({
            reason: 'conflict',
            message: 'An account with this email address already exists. Sign in instead.',
            fieldErrors: [{ field: 'email', message: 'This email address already has an account.' }],
          })
        case 'rate_limited':
          return rejected({
            reason: 'rate_limited',
            message: `Too many new accounts from your network. Try again in ${minutes(result.retryAfter)}.`,
            fieldErrors: [],
            retryAfter: result.retryAfter,
          })
      }
    }

    const result = await this.#accounts.signIn(input.tenant, credentials)
    switch (result.status) {
      case 'authenticated':
        return this.#authenticated(result.email)
      case 'invalid_credentials':
        return rejected({
          reason: 'invalid_credentials',
          message: 'The email address or the password is not right.',
          fieldErrors: [],
        })
      case 'locked':
        return rejected({
          reason: 'locked',
          message: `Too many failed sign-ins. For your security, signing in is paused: try again in ${minutes(result.retryAfter)}.`,
          fieldErrors: [],
          retryAfter: result.retryAfter,
        })
    }
  }

  #authenticated(email: string): MethodResult {
    return {
      status: 'authenticated',
      authentication: {
        provider: localProvider,
        subject: email,
        acr: PasswordACR,
        amr: ['pwd'],
        authTime: this.#clock.now(),
      },
    }
  }
}

function rejected(rejection: Extract<MethodResult, { status: 'rejected' }>['rejection']): MethodResult {
  return { status: 'rejected', rejection }
}

function minutes(seconds: number): string {
  const count = Math.max(1, Math.round(seconds / 60))
  return count === 1 ? '1 minute' : `${count} minutes`
}
