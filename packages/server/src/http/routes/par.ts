import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { verifyAnonymousToken } from '../../authorization/anonymous-token.ts'
import { checkRedirectURI, parseAuthorizationRequest } from '../../authorization/authorization-request.ts'
import type { Services } from '../../domain/services.ts'
import { InvalidRequest } from '../../errors/oauth-error.ts'
import { authenticateClient } from '../client-authentication.ts'
import { verifyTokenRequestProof } from '../dpop-header.ts'
import { requireFormBody } from '../form-body.ts'
import { FormBody, TenantParams } from '../schemas.ts'

const PushedAuthorizationResponse = Type.Object({
  request_uri: Type.String(),
  expires_in: Type.Integer(),
})

/**
 * `POST /par` (RFC 9126): the client authenticates as at `/token` and pushes its authorization
 * request; `/authorize` then takes only `client_id` and the `request_uri` answered here. A
 * sign-in from an anonymous profile pushes `anonymous_token` with a DPoP proof by its key, so
 * the token never travels in a URL; the code is then bound to that key (RFC 9449 §10).
 */
export function parRoute(app: FastifyInstance, services: Services): void {
  app.post(
    '/par',
    {
      preValidation: requireFormBody,
      schema: { params: TenantParams, body: FormBody, response: { 201: PushedAuthorizationResponse } },
    },
    async (request, reply) => {
      const params = request.body as Record<string, string>
      const { tenant } = request
      const client = await authenticateClient(services, tenant, params, request.headers.authorization)
      if (params.request_uri !== undefined)
        throw new InvalidRequest('request_uri cannot be pushed (RFC 9126 §2.1)')
      const redirectUri = checkRedirectURI(client, params.redirect_uri)
      const dpop = await verifyTokenRequestProof(request, services, {
        tenantId: tenant.id,
        url: `${services.tokens.issuer(tenant.id)}/par`,
        requireNonce: tenant.settings.dpopNonce,
      })
      const anonymous =
        params.anonymous_token === undefined
          ? undefined
          : await verifyAnonymousToken(services, tenant, {
              token: params.anonymous_token,
              clientId: client.clientId,
              proofJkt: dpop?.jkt,
            })
      const authorization = parseAuthorizationRequest(client, redirectUri, params, {
        dpopJkt: dpop?.jkt,
        anonymous,
      })
      const pushed = await services.pushedRequests.push(tenant.id, authorization, request.ip)
      reply.code(201).header('cache-control', 'no-store').header('pragma', 'no-cache')
      if (tenant.settings.dpopNonce) reply.header('dpop-nonce', services.dpop.nonce(tenant.id))
      return { request_uri: pushed.requestUri, expires_in: pushed.expiresIn }
    },
  )
}
