import { GrantType, type TokenResponse } from '@onramp/protocol'
import { CodeRejected } from '../domain/authorization-code-manager.ts'
import type { Services } from '../domain/services.ts'
import { InvalidGrant, InvalidRequest } from '../errors/oauth-error.ts'
import type { GrantHandler, TokenRequest } from './grant-handler.ts'

/**
 * The authorization code grant after the hosted login: PKCE (S256), the exact redirect URI,
 * single use, the client it was issued to, and the DPoP key of the pushed request (RFC 9449 §10)
 * when there was one. Issues a person's tokens in a new family: `sub` is their profile.
 */
export const authorizationCodeGrant: GrantHandler = {
  grantType: GrantType.authorizationCode,
  parameters: ['code', 'redirect_uri', 'code_verifier'],

  async handle({ tenant, client, params, dpop }: TokenRequest, services: Services): Promise<TokenResponse> {
    const code = params.code
    if (!code) throw new InvalidRequest('code is required')
    let redeemed: Awaited<ReturnType<Services['authorizationCodes']['redeem']>>
    try {
      redeemed = await services.authorizationCodes.redeem(tenant, code, {
        clientId: client.clientId,
        redirectUri: params.redirect_uri,
        codeVerifier: params.code_verifier,
        jkt: dpop?.jkt,
      })
    } catch (error) {
      if (error instanceof CodeRejected) throw new InvalidGrant(error.message)
      throw error
    }
    const { grant, refreshToken } = redeemed
    const access = await services.tokens.issueAccessToken(tenant, {
      subject: grant.profileId,
      audience: services.tokens.issuer(tenant.id),
      clientId: client.clientId,
      scope: grant.scope,
      acr: grant.acr,
      amr: grant.amr,
      sid: grant.id,
      ...(grant.jkt && { jkt: grant.jkt }),
      ttl: tenant.settings.accessTokenTtl,
    })
    return {
      access_token: access.token,
      token_type: grant.jkt ? 'DPoP' : 'Bearer',
      expires_in: access.expiresIn,
      refresh_token: refreshToken,
      ...(grant.scope && { scope: grant.scope }),
    }
  },
}
