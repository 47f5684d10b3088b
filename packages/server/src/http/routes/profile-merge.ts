import { type AccessTokenClaims, AnonymousACR } from '@onramp/protocol'
import { type Static, Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { MergePreference } from '../../domain/profile-merge.ts'
import type { Services } from '../../domain/services.ts'
import { TokenRejected } from '../../domain/token-manager.ts'
import { AppError } from '../../errors/app-error.ts'
import { InvalidRequest } from '../../errors/oauth-error.ts'
import { authenticateAccessToken } from '../protected-resource.ts'
import { TenantParams } from '../schemas.ts'

const MergeBody = Type.Object(
  {
    anonymous_token: Type.String({ minLength: 1, maxLength: 8192 }),
    prefer: Type.Optional(Type.Union([Type.Literal('existing'), Type.Literal('anonymous')])),
  },
  { additionalProperties: false },
)

const MergeResponse = Type.Object({
  sub: Type.String(),
  merged: Type.Array(Type.String()),
  skipped: Type.Array(Type.String()),
})

/**
 * `POST /profile/merge`: a signed-in person folds the attributes of an anonymous profile they
 * hold into their own. The person's access token is in `Authorization` (scope
 * `attributes:write`), the anonymous token in the JSON body. Both must be bound to the same DPoP
 * key, so the request's one proof (with `ath` of the person's token) shows possession of both:
 * that is the case after a sign-in from the anonymous profile, whose key the new tokens are
 * bound to. `prefer` says whose value wins for a name both have (default `existing`). The
 * anonymous profile is left as it was.
 */
export function profileMergeRoute(app: FastifyInstance, services: Services): void {
  app.post<{ Body: Static<typeof MergeBody> }>(
    '/profile/merge',
    { schema: { params: TenantParams, body: MergeBody, response: { 200: MergeResponse } } },
    async (request, reply) => {
      const { tenant } = request
      const issuer = services.tokens.issuer(tenant.id)
      const identified = await authenticateAccessToken(request, services, tenant, {
        url: `${issuer}/profile/merge`,
        scope: 'attributes:write',
      })
      if (identified.sid === undefined || identified.acr === undefined || identified.acr === AnonymousACR)
        throw new AppError('forbidden', 'the access token must be of a signed-in person')
      const anonymous = await anonymousClaims(services, tenant.id, request.body.anonymous_token)
      if (anonymous.client_id !== identified.client_id)
        throw new InvalidRequest('anonymous_token was issued to another client')
      if (identified.cnf?.jkt === undefined || anonymous.cnf?.jkt !== identified.cnf.jkt)
        throw new InvalidRequest('both tokens must be bound to the same DPoP key')
      const prefer: MergePreference =
        request.body.prefer === 'anonymous' ? 'prefer-anonymous' : 'prefer-existing'
      const result = await services.profileMerger.merge(tenant.id, {
        anonymousProfileId: anonymous.sub,
        identifiedProfileId: identified.sub,
        prefer,
      })
      reply.header('cache-control', 'no-store')
      return { sub: identified.sub, ...result }
    },
  )
}

async function anonymousClaims(
  services: Services,
  tenantId: string,
  token: string,
): Promise<AccessTokenClaims> {
  try {
    const claims = await services.tokens.verifyAccessToken(tenantId, token)
    if (claims.aud !== services.tokens.issuer(tenantId))
      throw new InvalidRequest('anonymous_token is not an access token of this tenant')
    await services.tokens.activeGrant(tenantId, claims, services.store)
    if (claims.acr !== AnonymousACR || claims.sid === undefined)
      throw new InvalidRequest('anonymous_token is not an anonymous token')
    return claims
  } catch (error) {
    if (error instanceof TokenRejected)
      throw new InvalidRequest(`anonymous_token is invalid: ${error.message}`)
    throw error
  }
}
