import { decodeJwt } from 'jose'

/**
 * The claims of a JWT the SDK received from its own server over TLS, read without verifying the
 * signature (the SDK only reads `sub` and `exp` for its bookkeeping); undefined if it is no JWT.
 */
export function readJWTClaims(token: string): Record<string, unknown> | undefined {
  try {
    return decodeJwt(token)
  } catch {
    return undefined
  }
}
