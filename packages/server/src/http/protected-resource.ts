import { JWSAlgorithms } from '@onramp/crypto'
import type { AccessTokenClaims } from '@onramp/protocol'
import type { FastifyRequest } from 'fastify'
import type { Services } from '../domain/services.ts'
import { TokenRejected } from '../domain/token-manager.ts'
import { DPoPProofError } from '../dpop/dpop-verifier.ts'
import { OAuthError } from '../errors/oauth-error.ts'
import type { Tenant } from '../store/tenant-store.ts'
import { dpopHeader } from './dpop-header.ts'

const algs = JWSAlgorithms.join(' ')

/**
 * RFC 6750 / RFC 9449 §7 errors: 401 with a `WWW-Authenticate` challenge for the scheme the
 * client should use (both when we cannot tell).
 */
function challenge(
  code: 'invalid_token' | 'invalid_dpop_proof' | 'use_dpop_nonce' | 'insufficient_scope' | undefined,
  description: string,
  scheme: 'DPoP' | 'Bearer' | 'both',
  extraHeaders: Record<string, string> = {},
): OAuthError {
  const params = code ? ` error="${code}", error_description="${description.replace(/["\\]/g, '')}"` : ''
  const dpop = `DPoP algs="${algs}"${params ? `,${params}` : ''}`
  const bearer = `Bearer${params ? ` ${params.trim()}` : ''}`
  const header = scheme === 'DPoP' ? dpop : scheme === 'Bearer' ? bearer : `${bearer}, ${dpop}`
  return new OAuthError(code ?? 'invalid_token', description, {
    status: code === 'insufficient_scope' ? 403 : 401,
    headers: { 'www-authenticate': header, ...extraHeaders },
  })
}

/**
 * Authenticates a request to one of our own protected endpoints (userinfo, profile): an access
 * token of this tenant for this issuer, from an active family, DPoP-bound tokens only with a
 * valid proof for the same key (RFC 9449 §7.1).
 */
export async function authenticateAccessToken(
  request: FastifyRequest,
  services: Services,
  tenant: Tenant,
  options: { url: string; scope?: string },
): Promise<AccessTokenClaims> {
  const authorization = request.headers.authorization
  const match = authorization ? /^(Bearer|DPoP) +([A-Za-z0-9\-._~+/]+=*)$/i.exec(authorization) : null
  if (!match)
    throw challenge(
      authorization ? 'invalid_token' : undefined,
      authorization ? 'malformed Authorization header' : 'access token required',
      'both',
    )
  const scheme = match[1]!.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer'
  const token = match[2]!

  let claims: AccessTokenClaims
  try {
    claims = await services.tokens.verifyAccessToken(tenant.id, token)
    if (claims.aud !== services.tokens.issuer(tenant.id))
      throw new TokenRejected('issuer', 'token is for another audience')
    await services.tokens.activeGrant(tenant.id, claims, services.store)
  } catch (error) {
    if (error instanceof TokenRejected) throw challenge('invalid_token', error.message, scheme)
    throw error
  }

  const jkt = claims.cnf?.jkt
  if (jkt === undefined && scheme === 'DPoP')
    throw challenge('invalid_token', 'token is not DPoP-bound; use Bearer', 'Bearer')
  if (jkt !== undefined) {
    if (scheme !== 'DPoP')
      throw challenge('invalid_token', 'token is DPoP-bound; use the DPoP scheme', 'DPoP')
    const proof = dpopHeader(request)
    if (!proof) throw challenge('invalid_dpop_proof', 'DPoP proof required', 'DPoP')
    try {
      const verified = await services.dpop.verify(proof, {
        tenantId: tenant.id,
        method: request.method,
        url: options.url,
        accessToken: token,
        requireNonce: tenant.settings.dpopNonce,
      })
      if (verified.jkt !== jkt)
        throw challenge('invalid_dpop_proof', 'proof key does not match the token binding', 'DPoP')
    } catch (error) {
      if (error instanceof DPoPProofError) {
        throw challenge(error.code, error.message, 'DPoP', error.nonce ? { 'dpop-nonce': error.nonce } : {})
      }
      throw error
    }
  }
  if (options.scope && !claims.scope?.split(' ').includes(options.scope)) {
    throw challenge('insufficient_scope', `scope ${options.scope} required`, scheme)
  }
  return claims
}
