import { GrantType, type TokenResponse, TokenType } from '@onramp/protocol'
import type { Services } from '../domain/services.ts'
import { TokenRejected } from '../domain/token-manager.ts'
import { InvalidGrant, InvalidRequest, InvalidTarget } from '../errors/oauth-error.ts'
import type { Resource } from '../store/resource-store.ts'
import type { GrantHandler, TokenRequest } from './grant-handler.ts'
import { grantedScope } from './requested-scope.ts'

/**
 * RFC 8693 token exchange: an Onramp access token for a token a registered resource accepts,
 * as the resource's policy allows. A DPoP-bound subject token needs a proof with the same key,
 * and the issued token is bound to it.
 */
export const tokenExchangeGrant: GrantHandler = {
  grantType: GrantType.tokenExchange,
  parameters: [
    'subject_token',
    'subject_token_type',
    'audience',
    'resource',
    'scope',
    'requested_token_type',
    'actor_token',
    'actor_token_type',
  ],

  async handle({ tenant, client, params, dpop }: TokenRequest, services: Services): Promise<TokenResponse> {
    const subjectToken = params.subject_token
    if (!subjectToken) throw new InvalidRequest('subject_token is required')
    if (params.subject_token_type !== TokenType.accessToken) {
      throw new InvalidRequest(`subject_token_type must be ${TokenType.accessToken}`)
    }
    if (params.requested_token_type !== undefined && params.requested_token_type !== TokenType.accessToken) {
      throw new InvalidRequest(`requested_token_type must be ${TokenType.accessToken}`)
    }
    if (params.actor_token !== undefined || params.actor_token_type !== undefined) {
      throw new InvalidRequest('delegation (actor_token) is not supported')
    }
    if (params.audience && params.resource && params.audience !== params.resource) {
      throw new InvalidTarget('audience and resource name different targets')
    }
    const audience = params.audience ?? params.resource
    if (!audience) throw new InvalidRequest('audience is required')

    let claims: Awaited<ReturnType<Services['tokens']['verifyAccessToken']>>
    try {
      claims = await services.tokens.verifyAccessToken(tenant.id, subjectToken)
      if (claims.aud !== services.tokens.issuer(tenant.id))
        throw new InvalidGrant('subject_token is not an Onramp token of this tenant')
      if (claims.client_id !== client.clientId)
        throw new InvalidGrant('subject_token was issued to another client')
      const bound = claims.cnf?.jkt
      if (bound !== undefined && dpop?.jkt !== bound) {
        throw new InvalidGrant('subject_token is DPoP-bound: send a DPoP proof made with the same key')
      }
      await services.tokens.activeGrant(tenant.id, claims, services.store)
    } catch (error) {
      if (error instanceof TokenRejected) throw new InvalidGrant(`subject_token is invalid: ${error.message}`)
      throw error
    }

    const resource = await services.resources.find(tenant.id, audience)
    if (!resource) throw new InvalidTarget('audience is not a registered resource')
    checkPolicy(resource, client.clientId, claims.acr, claims.amr)
    const scope = grantedScope(params.scope, resource.scopes)
    const jkt = claims.cnf?.jkt ?? dpop?.jkt
    const access = await services.tokens.issueAccessToken(tenant, {
      subject: claims.sub,
      audience: resource.audience,
      clientId: client.clientId,
      scope,
      ...(claims.acr !== undefined && { acr: claims.acr }),
      ...(claims.amr && { amr: claims.amr }),
      ...(claims.sid && { sid: claims.sid }),
      ...(jkt && { jkt }),
      ttl: resource.accessTokenTtl ?? tenant.settings.accessTokenTtl,
    })
    return {
      access_token: access.token,
      issued_token_type: TokenType.accessToken,
      token_type: jkt ? 'DPoP' : 'Bearer',
      expires_in: access.expiresIn,
      ...(scope && { scope }),
    }
  },
}

function checkPolicy(
  resource: Resource,
  clientId: string,
  acr: string | undefined,
  amr: string[] | undefined,
): void {
  const { policy } = resource
  if (!policy.allowedClients.includes(clientId))
    throw new InvalidTarget('this client may not obtain tokens for the audience')
  const anonymous = acr === '0' || amr?.includes('anon') === true
  if (anonymous && !policy.allowAnonymous)
    throw new InvalidTarget('the audience does not accept anonymous subjects')
  if (policy.minAcr !== undefined && Number(acr ?? 0) < Number(policy.minAcr)) {
    throw new InvalidTarget(`the audience requires acr ${policy.minAcr} or higher`)
  }
  if (
    policy.authenticationModes &&
    anonymous &&
    !policy.authenticationModes.includes(modeFromAMR(amr ?? []))
  ) {
    throw new InvalidTarget(
      `the audience requires authentication mode ${policy.authenticationModes.join(' or ')}`,
    )
  }
}

function modeFromAMR(amr: readonly string[]): 'no' | 'password' | 'biometric' {
  if (amr.includes('user')) return 'biometric'
  if (amr.includes('pin')) return 'password'
  return 'no'
}
