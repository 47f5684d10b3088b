import { type AccessTokenClaims, AnonymousACR } from '@onramp/protocol'
import type { Services } from '../domain/services.ts'
import { TokenRejected } from '../domain/token-manager.ts'
import { InvalidDPoPProof, InvalidRequest } from '../errors/oauth-error.ts'
import type { Tenant } from '../store/tenant-store.ts'
import type { AnonymousContext } from './authorization-request.ts'

/**
 * Checks the `anonymous_token` of a pushed authorization request: an anonymous access token of
 * this tenant, issued to the pushing client, of a family that still stands, presented with a
 * DPoP proof by the key it is bound to (so a leaked token alone cannot start a sign-in that
 * takes over its profile). Returns the profile and family the sign-in will start from.
 */
export async function verifyAnonymousToken(
  services: Services,
  tenant: Tenant,
  input: { token: string; clientId: string; proofJkt: string | undefined },
): Promise<AnonymousContext> {
  let claims: AccessTokenClaims
  try {
    claims = await services.tokens.verifyAccessToken(tenant.id, input.token)
    if (claims.aud !== services.tokens.issuer(tenant.id))
      throw new InvalidRequest('anonymous_token is not an access token of this tenant')
    await services.tokens.activeGrant(tenant.id, claims, services.store)
  } catch (error) {
    if (error instanceof TokenRejected)
      throw new InvalidRequest(`anonymous_token is invalid: ${error.message}`)
    throw error
  }
  if (claims.acr !== AnonymousACR || !claims.amr?.includes('anon') || !claims.sid)
    throw new InvalidRequest('anonymous_token is not an anonymous token')
  if (claims.client_id !== input.clientId)
    throw new InvalidRequest('anonymous_token was issued to another client')
  const jkt = claims.cnf?.jkt
  if (!jkt) throw new InvalidRequest('anonymous_token is not DPoP-bound')
  if (input.proofJkt === undefined)
    throw new InvalidDPoPProof('anonymous_token requires a DPoP proof made with its key')
  if (input.proofJkt !== jkt)
    throw new InvalidDPoPProof('the DPoP proof key differs from the anonymous_token’s')
  return { profileId: claims.sub, grantId: claims.sid, jkt }
}
