import { readFileSync } from 'node:fs'
import { Type } from '@sinclair/typebox'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import {
  type AuthorizationRequest,
  authorizationResponseURL,
  checkRedirectURI,
  parseAuthorizationRequest,
} from '../../authorization/authorization-request.ts'
import type { Services } from '../../domain/services.ts'
import { AppError } from '../../errors/app-error.ts'
import { InvalidRequest, OAuthError, TooManyRequests } from '../../errors/oauth-error.ts'
import type { Rejection } from '../../login/authentication-method.ts'
import {
  type Interaction,
  InteractionGone,
  interactionLifetime,
  PasskeyOfferPending,
  type SubmitOutcome,
} from '../../login/interaction-manager.ts'
import type { LoginScreen } from '../../login/login-state.ts'
import type { Tenant } from '../../store/tenant-store.ts'
import { FormBody, TenantParams } from '../schemas.ts'
import { interactionCookie, readCookie } from './cookies.ts'
import { errorPage, loginPage, type PageFrame, passkeyOfferPage } from './pages.ts'
import { cspSourceOf, setPageSecurityHeaders } from './security-headers.ts'

const stylesheet = readFileSync(new URL('./login.css', import.meta.url), 'utf8')
const passkeyScript = readFileSync(new URL('./passkey.js', import.meta.url), 'utf8')

const rejectionStatus: Readonly<Record<Rejection['reason'], number>> = {
  invalid_input: 400,
  invalid_credentials: 401,
  conflict: 409,
  locked: 429,
  rate_limited: 429,
  // Whatever the upstream provider or the browser brought back, it is not this server's failure.
  upstream_denied: 403,
  upstream_failed: 400,
}

const ScreenParams = Type.Object({
  tenant: TenantParams.properties.tenant,
  screen: Type.String({ maxLength: 16 }),
})

const ProviderParams = Type.Object({
  tenant: TenantParams.properties.tenant,
  name: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,31}$' }),
})

const screens: Readonly<Record<string, LoginScreen>> = { 'sign-in': 'sign_in', 'sign-up': 'sign_up' }

/**
 * `GET /authorize` and the hosted login pages under `/login`: plain HTML rendered here, no
 * scripts but this server's own passkey script, a strict CSP, an interaction cookie and a CSRF token in every form. Errors that cannot
 * go back to a verified redirect URI are shown as pages; the others are redirected to it.
 */
export function loginRoutes(app: FastifyInstance, services: Services): void {
  app.register(async (login) => {
    login.setErrorHandler((error: FastifyError, request, reply) => {
      // The interaction ended (another tab, expiry) while this request was on its way.
      if (error instanceof InteractionGone) return sendGone(services, request, reply)
      // A sign-in form (an older tab's) while the login offers a passkey: show the offer.
      if (error instanceof PasskeyOfferPending) return redirect(reply, loginURL(services, request))
      let status =
        error instanceof OAuthError || error instanceof AppError ? error.status : (error.statusCode ?? 500)
      if (error.validation) status = 400
      if (status >= 500) {
        request.log.error(
          { err: error, reqId: request.id, route: request.routeOptions.url },
          'request failed',
        )
      }
      return sendPage(reply, status, errorPage(frame(services, request.tenant), pageErrorFor(status)))
    })
    login.addHook('onSend', async (_request, reply) => {
      if (!reply.hasHeader('content-security-policy')) setPageSecurityHeaders(reply)
      if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store')
    })
    const options = { schema: { params: TenantParams } }
    const formOptions = { schema: { params: TenantParams, body: FormBody } }

    login.get('/authorize', options, (request, reply) => authorize(services, request, reply))

    login.get('/login', options, async (request, reply) => {
      const interaction = await currentInteraction(services, request)
      if (!interaction) return sendGone(services, request, reply)
      return renderInteraction(services, request, reply, interaction)
    })

    login.get('/login/:screen', { schema: { params: ScreenParams } }, async (request, reply) => {
      const screen = screens[(request.params as { screen: string }).screen]
      if (!screen) throw new AppError('not_found', 'no such page')
      const found = await currentInteraction(services, request)
      if (!found) return sendGone(services, request, reply)
      const interaction = await services.login.show(found, screen)
      return renderLogin(services, request, reply, interaction, { screen })
    })

    for (const [path, screen] of Object.entries(screens)) {
      login.post(`/login/${path}`, formOptions, async (request, reply) => {
        const checked = await checkedInteraction(services, request, reply)
        if (!checked) return reply
        const { csrf_token: _, ...fields } = request.body as Record<string, string>
        const outcome = await services.login.submit(request.tenant, checked, {
          method: 'password',
          action: screen,
          fields,
          clientIP: request.ip,
        })
        // A refused form comes back as it was posted, with its email.
        return settle(services, request, reply, outcome, { screen, email: fields.email })
      })
    }

    login.post(
      '/login/upstream/:name',
      { schema: { params: ProviderParams, body: FormBody } },
      async (request, reply) => {
        const checked = await checkedInteraction(services, request, reply)
        if (!checked) return reply
        const { name } = request.params as { name: string }
        return settle(
          services,
          request,
          reply,
          await services.login.submit(request.tenant, checked, {
            method: services.upstreamLogin.id,
            action: 'redirect',
            fields: { provider: name },
            clientIP: request.ip,
          }),
        )
      },
    )

    // The upstream provider sends the browser back here: a top-level GET, so the Lax cookie comes
    // along; the `state` kept with the interaction stands in for the CSRF token.
    login.get('/login/callback/:name', { schema: { params: ProviderParams } }, async (request, reply) => {
      const interaction = await currentInteraction(services, request)
      if (!interaction) return sendGone(services, request, reply)
      const { name } = request.params as { name: string }
      const query = (request.raw.url ?? '').split('?')[1] ?? ''
      const returnURL = new URL(`${services.upstreamLogin.callbackURL(request.tenant.id, name)}?${query}`)
      return settle(
        services,
        request,
        reply,
        await services.login.resume(request.tenant, interaction, {
          method: services.upstreamLogin.id,
          returnURL,
        }),
      )
    })

    // The passkey script asks for a ceremony's options (JSON), then posts its result as a form.
    login.post('/login/passkey/options', formOptions, async (request, reply) => {
      const checked = await checkedInteraction(services, request, reply)
      if (!checked) return reply
      const { csrf_token: _, action = '', ...fields } = request.body as Record<string, string>
      const options = await services.login.begin(request.tenant, checked, {
        method: 'passkey',
        action,
        fields,
      })
      return sendCeremonyOptions(reply, options)
    })

    login.post('/login/passkey', formOptions, async (request, reply) => {
      const checked = await checkedInteraction(services, request, reply)
      if (!checked) return reply
      const { csrf_token: _, action = '', ...fields } = request.body as Record<string, string>
      return settle(
        services,
        request,
        reply,
        await services.login.submit(request.tenant, checked, {
          method: 'passkey',
          action,
          fields,
          clientIP: request.ip,
        }),
      )
    })

    // After signing in another way: the offer of a passkey for the account, which the passkey
    // script runs like the sign-in page's, or declines.
    login.post('/login/passkey-offer/options', formOptions, async (request, reply) => {
      const checked = await checkedInteraction(services, request, reply)
      if (!checked) return reply
      const options = await services.login.beginOfferedPasskey(request.tenant, checked)
      return sendCeremonyOptions(reply, options)
    })

    login.post('/login/passkey-offer', formOptions, async (request, reply) => {
      const checked = await checkedInteraction(services, request, reply)
      if (!checked) return reply
      const { csrf_token: _, ...fields } = request.body as Record<string, string>
      return settle(
        services,
        request,
        reply,
        await services.login.addOfferedPasskey(request.tenant, checked, { fields, clientIP: request.ip }),
      )
    })

    login.post('/login/passkey-offer/decline', formOptions, async (request, reply) => {
      const checked = await checkedInteraction(services, request, reply)
      if (!checked) return reply
      const location = await services.login.declineOfferedPasskey(request.tenant, checked)
      return completed(services, request, reply, location)
    })

    login.post('/login/cancel', formOptions, async (request, reply) => {
      const checked = await checkedInteraction(services, request, reply)
      if (!checked) return reply
      return completed(services, request, reply, await services.login.cancel(request.tenant, checked))
    })

    login.get('/login/assets/login.css', options, async (_request, reply) =>
      reply
        .header('content-type', 'text/css; charset=utf-8')
        .header('cache-control', 'public, max-age=3600')
        .send(stylesheet),
    )

    login.get('/login/assets/passkey.js', options, async (_request, reply) =>
      reply
        .header('content-type', 'text/javascript; charset=utf-8')
        .header('cache-control', 'public, max-age=3600')
        .send(passkeyScript),
    )
  })
}

/**
 * Sends the browser where a submission or a return leads, or back with why not: to `form` when
 * given (the form that was posted), else to the page of where the interaction stands.
 */
function settle(
  services: Services,
  request: FastifyRequest,
  reply: FastifyReply,
  outcome: SubmitOutcome,
  form?: { screen: LoginScreen; email: string | undefined },
): FastifyReply | Promise<FastifyReply> {
  switch (outcome.type) {
    case 'redirect':
      return completed(services, request, reply, outcome.location)
    case 'round_trip':
      return redirect(reply, outcome.location)
    case 'passkey_offer':
      return redirect(reply, loginURL(services, request))
    case 'rejected':
      if (outcome.rejection.detail !== undefined) {
        request.log.warn(
          { tenant: request.tenant.id, reason: outcome.rejection.reason, detail: outcome.rejection.detail },
          'upstream sign-in failed',
        )
      }
      if (form)
        return renderLogin(services, request, reply, outcome.interaction, {
          ...form,
          rejection: outcome.rejection,
        })
      return renderInteraction(services, request, reply, outcome.interaction, outcome.rejection)
  }
}

async function authorize(
  services: Services,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const { tenant } = request
  const { params, repeated } = queryParameters(request.raw.url ?? '')
  const show = (message: string): FastifyReply =>
    sendPage(
      reply,
      400,
      errorPage(frame(services, tenant), { title: 'This sign-in link does not work', message }),
    )
  if (repeated.has('client_id')) return show('The link names the app more than once.')
  const client =
    params.client_id === undefined ? undefined : await services.clients.find(tenant.id, params.client_id)
  if (!client) return show('The link does not name an app known here. Go back to the app and try again.')

  let authorization: AuthorizationRequest
  if (params.request_uri !== undefined) {
    const pushed = await services.pushedRequests.take(tenant.id, params.request_uri)
    if (!pushed || pushed.clientId !== client.clientId)
      return show('The link has expired or was used already. Go back to the app and try again.')
    authorization = pushed
  } else {
    let redirectUri: string
    try {
      if (repeated.has('redirect_uri')) throw new InvalidRequest('redirect_uri is repeated')
      redirectUri = checkRedirectURI(client, params.redirect_uri)
    } catch (error) {
      if (error instanceof OAuthError)
        return show('The app asked to return to an address it did not register.')
      throw error
    }
    try {
      const [first] = repeated
      if (first !== undefined) throw new InvalidRequest(`parameter "${first}" is repeated`)
      if (params.anonymous_token !== undefined)
        throw new InvalidRequest(
          'anonymous_token is accepted only in pushed authorization requests (POST /par)',
        )
      authorization = parseAuthorizationRequest(client, redirectUri, params, {
        dpopJkt: undefined,
        anonymous: undefined,
      })
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error
      return redirect(
        reply,
        authorizationResponseURL(redirectUri, errorResponse(services, tenant, error, params.state)),
      )
    }
  }
  if (authorization.prompt.includes('none')) {
    // There are no sign-in sessions to reuse: someone always has to sign in.
    const error = new OAuthError('login_required', 'the person must sign in')
    return redirect(
      reply,
      authorizationResponseURL(
        authorization.redirectUri,
        errorResponse(services, tenant, error, authorization.state),
      ),
    )
  }
  let interaction: Interaction
  try {
    interaction = await services.login.start(tenant, authorization, request.ip)
  } catch (error) {
    // RFC 6749 §4.1.2.1: the client hears `temporarily_unavailable`; nothing was kept.
    if (!(error instanceof TooManyRequests)) throw error
    return redirect(
      reply,
      authorizationResponseURL(
        authorization.redirectUri,
        errorResponse(services, tenant, error, authorization.state),
      ),
    )
  }
  const cookie = interactionCookie(services.publicUrl, tenant.id)
  reply.header('set-cookie', cookie.set(interaction.id, interactionLifetime))
  return redirect(reply, `${services.tokens.issuer(tenant.id)}/login`)
}

function errorResponse(
  services: Services,
  tenant: Tenant,
  error: OAuthError,
  state: string | undefined,
): Record<string, string | undefined> {
  return {
    error: error.code,
    error_description: error.message,
    state,
    iss: services.tokens.issuer(tenant.id),
  }
}

/** Query parameters as OAuth reads them, and the names sent more than once (RFC 6749 §3.1). */
function queryParameters(url: string): { params: Record<string, string>; repeated: Set<string> } {
  const query = url.includes('?') ? url.slice(url.indexOf('?') + 1) : ''
  const params: Record<string, string> = Object.create(null)
  const repeated = new Set<string>()
  for (const [name, value] of new URLSearchParams(query)) {
    if (name in params) repeated.add(name)
    else params[name] = value
  }
  return { params, repeated }
}

async function currentInteraction(
  services: Services,
  request: FastifyRequest,
): Promise<Interaction | undefined> {
  const cookie = interactionCookie(services.publicUrl, request.tenant.id)
  const id = readCookie(request.headers.cookie, cookie.name)
  return id === undefined ? undefined : services.login.find(request.tenant.id, id)
}

/**
 * The interaction of a form post, once it passed the CSRF checks: the per-interaction token in
 * the form and, when the browser sends a real one, an `Origin` of this server. Otherwise the refusal is
 * sent and undefined returned.
 */
async function checkedInteraction(
  services: Services,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<Interaction | undefined> {
  const interaction = await currentInteraction(services, request)
  if (!interaction) {
    sendGone(services, request, reply)
    return undefined
  }
  const origin = request.headers.origin
  const token = (request.body as Record<string, string>).csrf_token
  // The pages' `Referrer-Policy: no-referrer` makes browsers send `Origin: null` with their own
  // form posts: that says nothing either way, and the token decides.
  if (
    (origin !== undefined && origin !== 'null' && origin !== new URL(services.publicUrl).origin) ||
    !services.login.hasCSRFToken(interaction, token)
  ) {
    sendPage(
      reply,
      403,
      errorPage(frame(services, request.tenant), {
        title: 'This form has expired',
        message:
          'The form was not sent from this sign-in page, or the page is out of date. Go back to the app and start again.',
      }),
    )
    return undefined
  }
  return interaction
}

/** The page of where the interaction stands: the sign-in or sign-up form, or the passkey offer. */
function renderInteraction(
  services: Services,
  request: FastifyRequest,
  reply: FastifyReply,
  interaction: Interaction,
  rejection?: Rejection,
): Promise<FastifyReply> {
  const { state } = interaction
  if (state.step === 'authenticating')
    return renderLogin(services, request, reply, interaction, { screen: state.screen, rejection })
  return renderPasskeyOffer(services, request, reply, interaction, rejection)
}

function renderPasskeyOffer(
  services: Services,
  request: FastifyRequest,
  reply: FastifyReply,
  interaction: Interaction,
  rejection: Rejection | undefined,
): Promise<FastifyReply> {
  return sendInteractionPage(services, request, reply, interaction, { rejection }, (common) =>
    passkeyOfferPage({
      ...common,
      requested: interaction.request.action === 'add_passkey',
      formError: rejection?.message,
    }),
  )
}

function renderLogin(
  services: Services,
  request: FastifyRequest,
  reply: FastifyReply,
  interaction: Interaction,
  view: { screen: LoginScreen; email?: string | undefined; rejection?: Rejection },
): Promise<FastifyReply> {
  const { tenant } = request
  const { rejection } = view
  const formTargets = services.upstreamLogin.formTargets(tenant)
  return sendInteractionPage(services, request, reply, interaction, { rejection, formTargets }, (common) =>
    loginPage({
      ...common,
      screen: view.screen,
      email: view.email ?? interaction.request.loginHint,
      formError: rejection?.message,
      fieldErrors: rejection?.fieldErrors ?? [],
      upstreamProviders: (tenant.settings.upstreamProviders ?? []).map((provider) => provider.name),
    }),
  )
}

/**
 * A page of the interaction: what every one shows (the client's name, where forms post, the CSRF
 * token), the status and `Retry-After` a rejection sets, and the security headers, whose form
 * targets are the client's redirect and `formTargets`.
 */
async function sendInteractionPage(
  services: Services,
  request: FastifyRequest,
  reply: FastifyReply,
  interaction: Interaction,
  options: { rejection: Rejection | undefined; formTargets?: string[] },
  render: (common: { frame: PageFrame; clientName: string; issuer: string; csrfToken: string }) => string,
): Promise<FastifyReply> {
  const { tenant } = request
  const client = await services.clients.find(tenant.id, interaction.request.clientId)
  setPageSecurityHeaders(reply, {
    formTargets: [cspSourceOf(interaction.request.redirectUri), ...(options.formTargets ?? [])],
    scripts: 'self',
  })
  const body = render({
    frame: frame(services, tenant),
    clientName: client?.name ?? interaction.request.clientId,
    issuer: services.tokens.issuer(tenant.id),
    csrfToken: interaction.csrfToken,
  })
  const { rejection } = options
  if (rejection?.retryAfter !== undefined) reply.header('retry-after', String(rejection.retryAfter))
  return sendPage(reply, rejection ? rejectionStatus[rejection.reason] : 200, body)
}

function completed(
  services: Services,
  request: FastifyRequest,
  reply: FastifyReply,
  location: string,
): FastifyReply {
  reply.header('set-cookie', interactionCookie(services.publicUrl, request.tenant.id).clear())
  return redirect(reply, location)
}

function sendGone(services: Services, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendPage(
    reply,
    400,
    errorPage(frame(services, request.tenant), {
      title: 'This sign-in has ended',
      message:
        'It expired, was cancelled or was finished in another window. Go back to the app and start again.',
    }),
  )
}

/** A ceremony's options, as JSON, for the passkey script. */
function sendCeremonyOptions(reply: FastifyReply, options: unknown): FastifyReply {
  return reply.header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(options))
}

/** The hosted login's page for the current interaction. */
function loginURL(services: Services, request: FastifyRequest): string {
  return `${services.tokens.issuer(request.tenant.id)}/login`
}

/** RFC 9700 §4.11: 303, so a form post is never re-sent to the client. */
function redirect(reply: FastifyReply, location: string): FastifyReply {
  return reply.code(303).header('location', location).send()
}

function sendPage(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status).header('content-type', 'text/html; charset=utf-8').send(body)
}

function frame(services: Services, tenant: Tenant | null | undefined): PageFrame {
  return {
    tenantName: tenant?.name,
    stylesheet: tenant ? `${services.tokens.issuer(tenant.id)}/login/assets/login.css` : undefined,
  }
}

function pageErrorFor(status: number): { title: string; message: string } {
  if (status === 404) return { title: 'Page not found', message: 'There is no sign-in page at this address.' }
  if (status === 429 || status === 503)
    return { title: 'Please try again later', message: 'The sign-in service is busy. Try again in a minute.' }
  if (status < 500)
    return { title: 'Something is wrong with this request', message: 'Go back to the app and start again.' }
  return {
    title: 'Something went wrong',
    message: 'The sign-in service could not handle this. Try again later.',
  }
}
