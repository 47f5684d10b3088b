import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { Services } from '../../domain/services.ts'
import { InvalidRequest, UnauthorizedClient, UnsupportedGrantType } from '../../errors/oauth-error.ts'
import { grantHandlers } from '../../grants/index.ts'
import { authenticateClient } from '../client-authentication.ts'
import { verifyTokenRequestProof } from '../dpop-header.ts'
import { requireFormBody } from '../form-body.ts'
import { FormBody, TenantParams } from '../schemas.ts'

const TokenResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.String(),
  expires_in: Type.Integer(),
  refresh_token: Type.Optional(Type.String()),
  scope: Type.Optional(Type.String()),
  device_id: Type.Optional(Type.String()),
  issued_token_type: Type.Optional(Type.String()),
})

/** `POST /token`: parse, authenticate the client, verify DPoP, hand the request to its grant. */
export function tokenRoute(app: FastifyInstance, services: Services): void {
  app.post(
    '/token',
    {
      preValidation: requireFormBody,
      schema: { params: TenantParams, body: FormBody, response: { 200: TokenResponse } },
    },
    async (request, reply) => {
      const params = request.body as Record<string, string>
      const { tenant } = request
      const grantType = params.grant_type
      if (!grantType) throw new InvalidRequest('grant_type is required')
      const grant = grantHandlers.get(grantType)
      if (!grant) throw new UnsupportedGrantType(`grant_type "${grantType.slice(0, 100)}" is not supported`)
      const client = await authenticateClient(services, tenant, params, request.headers.authorization)
      if (!client.grantTypes.includes(grantType))
        throw new UnauthorizedClient(`client may not use ${grantType}`)
      const dpop = await verifyTokenRequestProof(request, services, {
        tenantId: tenant.id,
        url: `${services.tokens.issuer(tenant.id)}/token`,
        requireNonce: tenant.settings.dpopNonce,
      })
      const response = await grant.handle({ tenant, client, params, dpop, clientIP: request.ip }, services)
      reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
      if (tenant.settings.dpopNonce) reply.header('dpop-nonce', services.dpop.nonce(tenant.id))
      return response
    },
  )
}
