import type { FastifyRequest } from 'fastify'
import type { Services } from '../domain/services.ts'
import { type DPoPCheck, DPoPProofError, type VerifiedDPoPProof } from '../dpop/dpop-verifier.ts'
import { InvalidDPoPProof, UseDPoPNonce } from '../errors/oauth-error.ts'

/** The request's single `DPoP` header, or undefined; more than one is an error (RFC 9449 §4.3). */
export function dpopHeader(request: FastifyRequest): string | undefined {
  const names = request.raw.rawHeaders
  let count = 0
  for (let i = 0; i < names.length; i += 2) {
    if (names[i]!.length === 4 && names[i]!.toLowerCase() === 'dpop') count++
  }
  if (count > 1) throw new InvalidDPoPProof('send exactly one DPoP header')
  const value = request.headers.dpop
  return typeof value === 'string' ? value : undefined
}

/** Verifies the proof for a token endpoint request, mapping failures to RFC 9449 §5 errors. */
export async function verifyTokenRequestProof(
  request: FastifyRequest,
  services: Services,
  check: Omit<DPoPCheck, 'method'>,
): Promise<VerifiedDPoPProof | undefined> {
  const proof = dpopHeader(request)
  if (proof === undefined) return undefined
  try {
    return await services.dpop.verify(proof, { ...check, method: request.method })
  } catch (error) {
    if (error instanceof DPoPProofError) {
      throw error.code === 'use_dpop_nonce'
        ? new UseDPoPNonce(error.nonce!)
        : new InvalidDPoPProof(error.message)
    }
    throw error
  }
}
