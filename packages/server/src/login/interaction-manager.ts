import { timingSafeEqual } from 'node:crypto'
import {
  type AuthorizationRequest,
  authorizationResponseURL,
} from '../authorization/authorization-request.ts'
import { hashSecret, randomToken, timeOrderedId } from '../crypto/secrets.ts'
import type { AuthorizationCodeManager } from '../domain/authorization-code-manager.ts'
import type { Clock } from '../domain/clock.ts'
import { authorizationStartLimit, type RateLimiter } from '../domain/rate-limiter.ts'
import type { EphemeralStore } from '../ephemeral/ephemeral-store.ts'
import { AppError } from '../errors/app-error.ts'
import type { IdentityStore } from '../store/identity-store.ts'
import type { Tenant } from '../store/tenant-store.ts'
import type {
  Authentication,
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
  type OfferingPasskeyState,
  type OngoingLoginState,
  transition,
} from './login-state.ts'
import { passkeyHandles, passkeyProvider } from './passkey-method.ts'

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
  /** Never an end state while stored: those complete and delete the interaction. */
  state: OngoingLoginState
  /** Seconds since the epoch. */
  expiresAt: number
}

export type SubmitOutcome =
  | { type: 'rejected'; interaction: Interaction; rejection: Rejection }
  /** The interaction is over: send the browser back to the client. */
  | { type: 'redirect'; location: string }
  /** The interaction goes on elsewhere first (an upstream provider): send the browser there. */
  | { type: 'round_trip'; location: string }
  /** Signed in; the account is offered a passkey first: show the offer. */
  | { type: 'passkey_offer' }

/** The interaction ended (completed in another tab, cancelled, expired) while a request was on its way. */
export class InteractionGone extends Error {
  constructor() {
    super('the sign-in session is over')
    this.name = 'InteractionGone'
  }
}

/** A request for the sign-in forms while the login waits for the passkey offer's answer. */
export class PasskeyOfferPending extends Error {
  constructor() {
    super('the sign-in waits for the passkey offer to be answered')
    this.name = 'PasskeyOfferPending'
  }
}

/**
 * Drives the login state machine of each interaction: stores interactions in the ephemeral store
 * (shared by a cluster's nodes), hands submitted forms to the authentication methods, and on
 * success issues the authorization code. Completion takes the interaction out of the store in one
 * step, so of two tabs submitting at once only one gets a code. A person who signs in another way
 * to an account without a passkey is offered one first; the passkey they add becomes an identity
 * of the same profile.
 */
export class InteractionManager {
  readonly #store: EphemeralStore
  readonly #clock: Clock
  readonly #methods: ReadonlyMap<string, AuthenticationMethod>
  readonly #codes: AuthorizationCodeManager
  readonly #issuer: (tenantId: string) => string
  readonly #rateLimiter: RateLimiter
  readonly #identities: IdentityStore

  constructor(options: {
    store: EphemeralStore
    /** Where signed-in identities' profiles are found, and an added passkey's identity goes. */
    identities: IdentityStore
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
    this.#identities = options.identities
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
    const state = transition(authenticating(interaction), { type: 'show', screen })
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
    const { roundTrip: kept } = authenticating(interaction)
    let current = interaction
    let pending: PendingRoundTrip | undefined
    if (method.begin) {
      // A ceremony's challenge answers one submission, whatever it brings.
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
    const state = transition(authenticating(interaction), { type: 'challenged', roundTrip: ceremony.pending })
    await this.#save({ ...interaction, state: state as AuthenticatingState })
    return ceremony.options
  }

  /** Begins registering the offered passkey: returns the ceremony's options for the page. */
  async beginOfferedPasskey(tenant: Tenant, interaction: Interaction): Promise<unknown> {
    const offer = offering(interaction)
    const { authentication } = offer
    // A local account's passkey is named by its email; an upstream subject is no name to show.
    const name = authentication.provider === 'local' ? authentication.subject : ''
    const ceremony = await this.#passkeys().begin!({
      tenant,
      action: 'register',
      fields: { name },
      accountPasskeyHandles: (await this.#accountPasskeys(tenant, authentication)) ?? [],
    })
    const state = transition(offer, { type: 'challenged', roundTrip: ceremony.pending })
    await this.#save({ ...interaction, state: state as OfferingPasskeyState })
    return ceremony.options
  }

  /**
   * The offered passkey's registration came back: a passkey that verifies becomes an identity of
   * the signed-in account's profile, and the login ends as it was authenticated. One that does not
   * leaves the offer open, to try again or decline.
   */
  async addOfferedPasskey(
    tenant: Tenant,
    interaction: Interaction,
    input: { fields: Readonly<Record<string, string>>; clientIP: string },
  ): Promise<SubmitOutcome> {
    const offer = offering(interaction)
    const kept = offer.roundTrip
    const current = { ...interaction, state: transition(offer, { type: 'returned' }) as OfferingPasskeyState }
    await this.#save(current)
    const result = await this.#passkeys().authenticate({
      tenant,
      action: 'register',
      fields: input.fields,
      clientIP: input.clientIP,
      pending: kept?.method === passkeyProvider ? kept : undefined,
    })
    if (result.status === 'rejected')
      return { type: 'rejected', interaction: current, rejection: result.rejection }
    if (result.status !== 'authenticated') throw new Error('a passkey registration does not redirect')
    const account = await this.#identities.find(
      tenant.id,
      offer.authentication.provider,
      offer.authentication.subject,
    )
    // The account was deleted while the offer was open: nothing to sign in to any more.
    if (!account) throw new InteractionGone()
    await this.#identities.createIfAbsent({
      id: timeOrderedId(),
      tenantId: tenant.id,
      provider: passkeyProvider,
      subject: result.authentication.subject,
      profileId: account.profileId,
      createdAt: this.#clock.now(),
    })
    return {
      type: 'redirect',
      location: await this.#complete(tenant, current, transition(offer, { type: 'continue' })),
    }
  }

  /** The person declined the passkey: the login ends as it was authenticated. */
  async declineOfferedPasskey(tenant: Tenant, interaction: Interaction): Promise<string> {
    return this.#complete(tenant, interaction, transition(offering(interaction), { type: 'continue' }))
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
    const pending = authenticating(interaction).roundTrip
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
        const { authentication } = result
        if (await this.#offersPasskey(tenant, interaction, authentication)) {
          const state = transition(interaction.state, { type: 'offer_passkey', authentication })
          await this.#save({ ...interaction, state: state as OfferingPasskeyState })
          return { type: 'passkey_offer' }
        }
        const state = transition(interaction.state, { type: 'authenticated', authentication })
        return { type: 'redirect', location: await this.#complete(tenant, interaction, state) }
      }
    }
  }

  /**
   * Whether to offer a passkey after the sign-in: to an account that has a profile already (a new
   * account gets its profile when the code is redeemed) when the client asked for one
   * (`onramp_action=add_passkey`), or else when the tenant offers them and the person signed in
   * another way to an account with no passkey yet.
   */
  async #offersPasskey(
    tenant: Tenant,
    interaction: Interaction,
    authentication: Authentication,
  ): Promise<boolean> {
    const requested = interaction.request.action === 'add_passkey'
    if (!requested && (tenant.settings.offerPasskeys !== true || authentication.provider === passkeyProvider))
      return false
    if (!this.#methods.has(passkeyProvider)) return false
    const passkeys = await this.#accountPasskeys(tenant, authentication)
    if (!passkeys) return false
    return requested || passkeys.length === 0
  }

  /** The user handles of the passkeys of the signed-in identity's profile; undefined without a profile. */
  async #accountPasskeys(tenant: Tenant, authentication: Authentication): Promise<string[] | undefined> {
    const account = await this.#identities.find(tenant.id, authentication.provider, authentication.subject)
    if (!account) return undefined
    return passkeyHandles(await this.#identities.listForProfile(tenant.id, account.profileId))
  }

  #passkeys(): AuthenticationMethod {
    const method = this.#methods.get(passkeyProvider)
    if (!method?.begin) throw new Error('the passkey method is not configured')
    return method
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
      case 'offering_passkey':
        throw new Error('an interaction completes only in an end state')
    }
  }

  async #save(interaction: Interaction): Promise<void> {
    const ttl = interaction.expiresAt - this.#clock.now()
    if (ttl <= 0) throw new InteractionGone()
    await this.#store.set(key(interaction.tenantId, interaction.id), JSON.stringify(interaction), ttl)
  }
}

function authenticating(interaction: Interaction): AuthenticatingState {
  if (interaction.state.step !== 'authenticating') throw new PasskeyOfferPending()
  return interaction.state
}

function offering(interaction: Interaction): OfferingPasskeyState {
  if (interaction.state.step !== 'offering_passkey')
    throw new AppError('conflict', 'no passkey is offered in this sign-in')
  return interaction.state
}

/** Stored under a hash of the id: a dump of the store does not hand out live sessions. */
function key(tenantId: string, id: string): string {
  return `login:interaction:${tenantId}:${hashSecret(id)}`
}
