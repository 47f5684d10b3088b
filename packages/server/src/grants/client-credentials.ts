import { GrantType, type TokenResponse } from '@onramp/protocol'
import type { Services } from '../domain/services.ts'
import { InvalidTarget, UnauthorizedClient } from '../errors/oauth-error.ts'
import type { GrantHandler, TokenRequest } from './grant-handler.ts'
import { grantedScope } from './requested-scope.ts'

/** Backends acting for themselves; `resource` (RFC 8707) or `audience` picks the token's audience. */
export const clientCredentialsGrant: GrantHandler = {
  grantType: GrantType.clientCredentials,
  parameters: ['scope', 'resource', 'audience'],

  async handle({ tenant, client, params, dpop }: TokenRequest, services: Services): Promise<TokenResponse> {
    if (client.type !== 'confidential')
      throw new UnauthorizedClient('client_credentials is for confidential clients')
    if (params.audience && params.resource && params.audience !== params.resource) {
      throw new InvalidTarget('audience and resource name different targets')
    }
    const target = params.audience ?? params.resource
    let audience = services.tokens.issuer(tenant.id)
    let ttl = tenant.settings.accessTokenTtl
    if (target !== undefined) {
      const resource = await services.resources.find(tenant.id, target)
      if (!resource) throw new InvalidTarget('resource is not registered')
      // The resource's policy names who may hold its tokens, whatever the grant.
      if (!resource.policy.allowedClients.includes(client.clientId))
        throw new InvalidTarget('this client may not obtain tokens for the resource')
      audience = resource.audience
      ttl = resource.accessTokenTtl ?? ttl
    }
    const scope = grantedScope(params.scope, client.scopes)
    const access = await services.tokens.issueAccessToken(tenant, {
      subject: client.clientId,
      audience,
      clientId: client.clientId,
      scope,
      ...(dpop && { jkt: dpop.jkt }),
      ttl,
    })
    return {
      access_token: access.token,
      token_type: dpop ? 'DPoP' : 'Bearer',
      expires_in: access.expiresIn,
      ...(scope && { scope }),
    }
  },
}
