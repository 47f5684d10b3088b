import { sha256Base64url } from './sha256.ts'

/** RFC 7638 JWK SHA-256 thumbprint, base64url: the `jkt` of RFC 9449. */
export function jwkThumbprint(jwk: Record<string, unknown>): string {
  let members: Record<string, unknown>
  switch (jwk.kty) {
    case 'EC':
      members = { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }
      break
    case 'RSA':
      members = { e: jwk.e, kty: jwk.kty, n: jwk.n }
      break
    case 'OKP':
      members = { crv: jwk.crv, kty: jwk.kty, x: jwk.x }
      break
    default:
      throw new TypeError('unsupported key type')
  }
  return sha256Base64url(JSON.stringify(members))
}
