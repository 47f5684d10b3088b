import { GrantType, type TokenResponse } from '@onramp/protocol'
import { RefreshRejected } from '../domain/refresh-token-manager.ts'
import { parseScope } from '../domain/scope.ts'
import type { Services } from '../domain/services.ts'
import { InvalidGrant, InvalidRequest, InvalidScope } from '../errors/oauth-error.ts'
import type { Grant } from '../store/grant-store.ts'
import type { GrantHandler, TokenRequest } from './grant-handler.ts'

/** Offline login and silent refresh: rotate the refresh token, issue a new access token. */
export const refreshTokenGrant: GrantHandler = {
  grantType: GrantType.refreshToken,
  parameters: ['refresh_token', 'scope'],

  async handle({ tenant, client, params, dpop }: TokenRequest, services: Services): Promise<TokenResponse> {
    const token = params.refresh_token
    if (!token) throw new InvalidRequest('refresh_token is required')
    const requested = params.scope === undefined ? undefined : parseScope(params.scope)
    if (requested === undefined && params.scope !== undefined) throw new InvalidScope('scope is malformed')
    const now = services.clock.now()

    let rotated: { grant: Grant; refreshToken: string; scope: string }
    try {
      rotated = await services.refreshTokens.rotate(
        tenant,
        token,
        { clientId: client.clientId, jkt: dpop?.jkt },
        async (stores, grant, refreshToken) => {
          const granted = grant.scope.split(' ').filter(Boolean)
          const outside = requested?.filter((s) => !granted.includes(s)) ?? []
          if (outside.length > 0)
            throw new InvalidScope(`scope exceeds the original grant: ${outside.join(' ')}`)
          await stores.profiles.touch(grant.profileId, now)
          if (grant.deviceId) await stores.devices.touch(grant.deviceId, now)
          return { grant, refreshToken, scope: requested ? requested.join(' ') : grant.scope }
        },
      )
    } catch (error) {
      if (error instanceof RefreshRejected) {
        throw new InvalidGrant(
          error.reason === 'wrong_key' && !dpop
            ? 'refresh token is DPoP-bound: send a DPoP proof'
            : error.message,
        )
      }
      throw error
    }
    const { grant, refreshToken, scope } = rotated
    const jkt = grant.jkt ?? dpop?.jkt
    const access = await services.tokens.issueAccessToken(tenant, {
      subject: grant.profileId,
      audience: services.tokens.issuer(tenant.id),
      clientId: client.clientId,
      scope,
      acr: grant.acr,
      amr: grant.amr,
      sid: grant.id,
      ...(jkt && { jkt }),
      ttl: tenant.settings.accessTokenTtl,
    })
    return {
      access_token: access.token,
      token_type: jkt ? 'DPoP' : 'Bearer',
      expires_in: access.expiresIn,
      refresh_token: refreshToken,
      ...(scope && { scope }),
    }
  },
}
