import { constants, createPublicKey, type JsonWebKey, type KeyObject, verify } from 'node:crypto'
import { joseToDER } from './ecdsa-signature.ts'

/**
 * Asymmetric JWS algorithms (RFC 7518 §3, RFC 8037, and RFC 9864's fully-specified `Ed25519`,
 * which current clients send for Ed25519 keys instead of `EdDSA`). `none` and HMAC never appear.
 */
export const JWSAlgorithms = [
  'ES256',
  'ES384',
  'ES512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'EdDSA',
  'Ed25519',
] as const

export type JWSAlgorithm = (typeof JWSAlgorithms)[number]

interface AlgorithmSpec {
  digest: string | null
  /** Size of one ECDSA coordinate; the JOSE signature is twice that. */
  ecSize?: number
  isPSS?: boolean
  keyType: 'EC' | 'RSA' | 'OKP'
  crv?: string
}

const specs: Record<JWSAlgorithm, AlgorithmSpec> = {
  ES256: { digest: 'sha256', ecSize: 32, keyType: 'EC', crv: 'P-256' },
  ES384: { digest: 'sha384', ecSize: 48, keyType: 'EC', crv: 'P-384' },
  ES512: { digest: 'sha512', ecSize: 66, keyType: 'EC', crv: 'P-521' },
  RS256: { digest: 'sha256', keyType: 'RSA' },
  RS384: { digest: 'sha384', keyType: 'RSA' },
  RS512: { digest: 'sha512', keyType: 'RSA' },
  PS256: { digest: 'sha256', isPSS: true, keyType: 'RSA' },
  PS384: { digest: 'sha384', isPSS: true, keyType: 'RSA' },
  PS512: { digest: 'sha512', isPSS: true, keyType: 'RSA' },
  EdDSA: { digest: null, keyType: 'OKP', crv: 'Ed25519' },
  Ed25519: { digest: null, keyType: 'OKP', crv: 'Ed25519' },
}

export function isJWSAlgorithm(value: unknown): value is JWSAlgorithm {
  return typeof value === 'string' && Object.hasOwn(specs, value)
}

/** Whether a public JWK is of the kind `alg` needs (RFC 7518 §3.4: ES256 needs P-256, and so on). */
export function keyMatchesAlgorithm(alg: JWSAlgorithm, jwk: { kty?: unknown; crv?: unknown }): boolean {
  const spec = specs[alg]
  if (jwk.kty !== spec.keyType) return false
  return spec.crv === undefined || jwk.crv === spec.crv
}

/**
 * Verifies a JWS signature synchronously: on a resource server the check is short and on every
 * request, so a thread-pool round trip would cost more than it frees.
 */
export function verifySignature(
  alg: JWSAlgorithm,
  key: KeyObject,
  signingInput: Buffer,
  signature: Buffer,
): boolean {
  const spec = specs[alg]
  try {
    if (spec.ecSize !== undefined) {
      const der = joseToDER(signature, spec.ecSize)
      return der !== undefined && verify(spec.digest, signingInput, key, der)
    }
    if (spec.isPSS) {
      const input = {
        key,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
      }
      return verify(spec.digest, signingInput, input, signature)
    }
    return verify(spec.digest, signingInput, key, signature)
  } catch {
    // A key of the wrong type or size for the algorithm.
    return false
  }
}

const privateMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth']

export function hasPrivateMembers(jwk: Record<string, unknown>): boolean {
  return privateMembers.some((member) => member in jwk)
}

/** A public key from a JWK; throws on anything that is not a valid public key (e.g. a point off the curve). */
export function importPublicJWK(jwk: Record<string, unknown>): KeyObject {
  return createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' })
}
