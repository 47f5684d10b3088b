import { timingSafeEqual } from 'node:crypto'
import {
  type AuthorizationRequest,
  authorizationResponseURL,
} from '../authorization/authorization-request.ts'
import { hashSecret, randomToken } from '../crypto/secrets.ts'
import type { AuthorizationCodeManager } from '../domain/authorization-code-manager.ts'
import type { Clock } from '../domain/clock.ts'
import { authorizationStartLimit, type RateLimiter } from '../domain/rate-limiter.ts'
import type { EphemeralStore } from '../ephemeral/ephemeral-store.ts'
import { AppError } from '../errors/app-error.ts'
import type { Tenant } from '../store/tenant-store.ts'
import type {
  AuthenticationMethod,
  MethodResult,
  PendingRoundTrip,
  Rejection,
} from './authentication-method.ts'
import {
  type AuthenticatingState,
  initialLoginState,
  type LoginScreen,
  type LoginState,
  transition,
} from './login-state.ts'

/** Seconds a person has to finish signing in. */
export const interactionLifetime = 30 * 60

/** One hosted-login session: the authorization request it answers and where the login stands. */
export interface Interaction {
  /** Opaque and secret: it is what the browser's cookie holds. */
  id: string
  tenantId: string
  request: AuthorizationRequest
  /** Sent in every form and checked on every POST. */
  csrfToken: string
  /** Always `authenticating` while stored: the end states complete and delete the interaction. */
  state: AuthenticatingState
  /** Seconds since the epoch. */
  expiresAt: number
}

export type SubmitOutcome =
  | { type: 'rejected'; interaction: Interaction; rejection: Rejection }
  /** The interaction is over: send the browser back to the client. */
  | { type: 'redirect'; location: string }
  /** The interaction goes on elsewhere first (an upstream provider): send the browser there. */
  | { type: 'round_trip'; location: string }

/** The interaction ended (completed in another tab, cancelled, expired) while a request was on its way. */
export class InteractionGone extends Error {
  constructor() {
    super('the sign-in session is over')
    this.name = 'InteractionGone'
  }
}

/**
 * Drives the login state machine of each interaction: stores interactions in the ephemeral store
 * (shared by a cluster's nodes), hands submitted forms to the authentication methods, and on
 * success issues the authorization code. Completion takes the interaction out of the store in one
 * step, so of two tabs submitting at once only one gets a code.
 */
export class InteractionManager {
  readonly #store: EphemeralStore
  readonly #clock: Clock
  readonly #methods: ReadonlyMap<string, AuthenticationMethod>
  readonly #codes: AuthorizationCodeManager
  readonly #issuer: (tenantId: string) => string
  readonly #rateLimiter: RateLimiter

  constructor(options: {
    store: EphemeralStore
    rateLimiter: RateLimiter
    clock: Clock
    methods: readonly AuthenticationMethod[]
    codes: AuthorizationCodeManager
    issuer: (tenantId: string) => string
  }) {
    this.#store = options.store
    this.#clock = options.clock
    this.#methods = new Map(options.methods.map((method) => [method.id, method]))
    this.#codes = options.codes
    this.#issuer = options.issuer
    this.#rateLimiter = options.rateLimiter
  }

  /** A new interaction, or `TooManyRequests` when the address started too many lately. */
  async start(tenant: Tenant, request: AuthorizationRequest, clientIP: string): Promise<Interaction> {
    await this.#rateLimiter.enforce([
      { key: `authorize:ip:${tenant.id}:${clientIP}`, limit: authorizationStartLimit },
    ])
    const interaction: Interaction = {
      id: randomToken(),
      tenantId: tenant.id,
      request,
      csrfToken: randomToken(),
      state: initialLoginState({ create: request.prompt.includes('create') }),
      expiresAt: this.#clock.now() + interactionLifetime,
    }
    await this.#save(interaction)
    return interaction
  }

  async find(tenantId: string, id: string): Promise<Interaction | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined
    const stored = await this.#store.get(key(tenantId, id))
    return stored === undefined ? undefined : (JSON.parse(stored) as Interaction)
  }

  hasCSRFToken(interaction: Interaction, token: string | undefined): boolean {
    if (token === undefined) return false
    const expected = Buffer.from(interaction.csrfToken)
    const given = Buffer.from(token)
    return expected.length === given.length && timingSafeEqual(expected, given)
  }

  async show(interaction: Interaction, screen: LoginScreen): Promise<Interaction> {
    const state = transition(interaction.state, { type: 'show', screen })
    if (state.step !== 'authenticating') throw new Error('showing a form keeps the login authenticating')
    const next = { ...interaction, state }
    await this.#save(next)
    return next
  }

  /** Hands a submitted form to an authentication method; completes the interaction when it succeeds. */
  async submit(
    tenant: Tenant,
    interaction: Interaction,
    input: { method: string; action: string; fields: Readonly<Record<string, string>>; clientIP: string },
  ): Promise<SubmitOutcome> {
    const method = this.#methods.get(input.method)
    if (!method?.actions.includes(input.action)) throw new AppError('invalid_input', 'unknown sign-in method')
    let current = interaction
    let pending: PendingRoundTrip | undefined
    if (method.begin) {
      // A ceremony's challenge answers one submission, whatever it brings.
      const kept = interaction.state.roundTrip
      pending = kept?.method === method.id ? kept : undefined
      current = {
        ...interaction,
        state: transition(interaction.state, { type: 'returned' }) as AuthenticatingState,
      }
      await this.#save(current)
    }
    const result = await method.authenticate({
      tenant,
      action: input.action,
      fields: input.fields,
      clientIP: input.clientIP,
      pending,
    })
    return this.#outcome(tenant, current, result)
  }

  /** Begins a method's ceremony in the page (a passkey's): keeps its challenge, returns the options for the page. */
  async begin(
    tenant: Tenant,
    interaction: Interaction,
    input: { method: string; action: string; fields: Readonly<Record<string, string>> },
  ): Promise<unknown> {
    const method = this.#methods.get(input.method)
    if (!method?.begin || !method.actions.includes(input.action))
      throw new AppError('invalid_input', 'unknown sign-in method')
    const ceremony = await method.begin({ tenant, action: input.action, fields: input.fields })
    const state = transition(interaction.state, { type: 'challenged', roundTrip: ceremony.pending })
    await this.#save({ ...interaction, state: state as AuthenticatingState })
    return ceremony.options
  }

  /**
   * The browser came back from a round trip (an upstream provider's callback). Only the method
   * that sent it away, with what it kept, decides; the round trip is used up either way.
   */
  async resume(
    tenant: Tenant,
    interaction: Interaction,
    input: { method: string; returnURL: URL },
  ): Promise<SubmitOutcome> {
    const pending = interaction.state.roundTrip
    const method = this.#methods.get(input.method)
    const next = {
      ...interaction,
      state: transition(interaction.state, { type: 'returned' }) as AuthenticatingState,
    }
    if (!pending || pending.method !== input.method || !method?.resume) {
      return {
        type: 'rejected',
        interaction,
        rejection: {
          reason: 'upstream_failed',
          message: 'This sign-in did not start here, or was already used. Try again.',
          fieldErrors: [],
        },
      }
    }
    await this.#save(next)
    const result = await method.resume({ tenant, pending, returnURL: input.returnURL })
    return this.#outcome(tenant, next, result)
  }

  async #outcome(tenant: Tenant, interaction: Interaction, result: MethodResult): Promise<SubmitOutcome> {
    switch (result.status) {
      case 'rejected':
        return { type: 'rejected', interaction, rejection: result.rejection }
      case 'redirect': {
        const state = transition(interaction.state, {
          type: 'redirected',
          roundTrip: result.roundTrip.pending,
        })
        await this.#save({ ...interaction, state: state as AuthenticatingState })
        return { type: 'round_trip', location: result.roundTrip.location }
      }
      case 'authenticated': {
        const state = transition(interaction.state, {
          type: 'authenticated',
          authentication: result.authentication,
        })
        return { type: 'redirect', location: await this.#complete(tenant, interaction, state) }
      }
    }
  }

  /** The person gave up: the client gets `access_denied`. */
  async cancel(tenant: Tenant, interaction: Interaction): Promise<string> {
    return this.#complete(tenant, interaction, transition(interaction.state, { type: 'cancel' }))
  }

  async #complete(tenant: Tenant, interaction: Interaction, state: LoginState): Promise<string> {
    if ((await this.#store.take(key(interaction.tenantId, interaction.id))) === undefined)
      throw new InteractionGone()
    const { request } = interaction
    const iss = this.#issuer(tenant.id)
    switch (state.step) {
      case 'authenticated': {
        const code = await this.#codes.issue(tenant, request, state.authentication)
        return authorizationResponseURL(request.redirectUri, { code, state: request.state, iss })
      }
      case 'cancelled':
        return authorizationResponseURL(request.redirectUri, {
          error: 'access_denied',
          error_description: 'The person cancelled the sign-in.',
          state: request.state,
          iss,
        })
      case 'authenticating':
        throw new Error('an interaction completes only in an end state')
    }
  }

  async #save(interaction: Interaction): Promise<void> {
    const ttl = interaction.expiresAt - this.#clock.now()
    if (ttl <= 0) throw new InteractionGone()
    await this.#store.set(key(interaction.tenantId, interaction.id), JSON.stringify(interaction), ttl)
  }
}

/** Stored under a hash of the id: a dump of the store does not hand out live sessions. */
function key(tenantId: string, id: string): string {
  return `login:interaction:${tenantId}:${hashSecret(id)}`
}
