import { amrForMode, GrantType, isAuthenticationMode, type TokenResponse } from '@onramp/protocol'
import type { Services } from '../domain/services.ts'
import { InvalidDPoPProof, InvalidRequest } from '../errors/oauth-error.ts'
import type { GrantHandler, TokenRequest } from './grant-handler.ts'
import { grantedScope } from './requested-scope.ts'

/** Anonymous enrollment: a new anonymous subject, its profile and a device bound to the proof's key. */
export const anonymousGrant: GrantHandler = {
  grantType: GrantType.anonymous,
  parameters: ['authentication_mode', 'scope', 'hardware_key'],

  async handle(
    { tenant, client, params, dpop, clientIP }: TokenRequest,
    services: Services,
  ): Promise<TokenResponse> {
    if (!dpop) throw new InvalidDPoPProof('anonymous enrollment requires a DPoP proof')
    const mode = params.authentication_mode
    if (!isAuthenticationMode(mode))
      throw new InvalidRequest('authentication_mode must be one of no, password, biometric')
    const hardwareKey = params.hardware_key
    if (hardwareKey !== undefined && hardwareKey !== 'true' && hardwareKey !== 'false') {
      throw new InvalidRequest('hardware_key must be true or false')
    }
    const scope = grantedScope(params.scope, client.scopes)
    await enforceEnrollmentLimits(services, tenant.id, clientIP)

    const amr = ['anon', ...amrForMode(mode, { hardwareKey: hardwareKey === 'true' })]
    const { device, grant, refreshToken } = await services.devices.enrollAnonymous(tenant, {
      clientId: client.clientId,
      jkt: dpop.jkt,
      authenticationMode: mode,
      hardwareKey: hardwareKey === 'true',
      scope,
      amr,
    })
    const access = await services.tokens.issueAccessToken(tenant, {
      subject: grant.profileId,
      audience: services.tokens.issuer(tenant.id),
      clientId: client.clientId,
      scope,
      acr: grant.acr,
      amr,
      sid: grant.id,
      jkt: dpop.jkt,
      ttl: tenant.settings.accessTokenTtl,
    })
    return {
      access_token: access.token,
      token_type: 'DPoP',
      expires_in: access.expiresIn,
      refresh_token: refreshToken,
      ...(scope && { scope }),
      device_id: device.id,
    }
  },
}

async function enforceEnrollmentLimits(
  services: Services,
  tenantId: string,
  clientIP: string,
): Promise<void> {
  const limits = services.enrollmentLimits
  if (!limits) return
  await services.rateLimiter.enforce([
    {
      key: `enroll:ip:${tenantId}:${clientIP}`,
      limit: { limit: limits.perIp, windowSeconds: limits.windowSeconds },
    },
    {
      key: `enroll:tenant:${tenantId}`,
      limit: { limit: limits.perTenant, windowSeconds: limits.windowSeconds },
    },
  ])
}
