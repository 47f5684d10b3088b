import { constants, createPublicKey, type KeyObject, sign, verify } from 'node:crypto'
import { derToJOSE, joseToDER } from './ecdsa-signature.ts'

/** Asymmetric JWS algorithms we verify (RFC 7518 §3, RFC 8037). `none` and HMAC never appear. */
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
] as const

export type JWSAlgorithm = (typeof JWSAlgorithms)[number]

interface AlgorithmSpec {
  digest: string | null
  /** Size of one ECDSA coordinate; the JOSE signature is twice that. */
  ecSize?: number
  pss?: boolean
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
  PS256: { digest: 'sha256', pss: true, keyType: 'RSA' },
  PS384: { digest: 'sha384', pss: true, keyType: 'RSA' },
  PS512: { digest: 'sha512', pss: true, keyType: 'RSA' },
  EdDSA: { digest: null, keyType: 'OKP' },
}

export function isJWSAlgorithm(value: unknown): value is JWSAlgorithm {
  return typeof value === 'string' && Object.hasOwn(specs, value)
}

/** Whether a public JWK is of the kind `alg` needs (RFC 7518 §3.4: ES256 needs P-256, and so on). */
export function keyMatchesAlgorithm(alg: JWSAlgorithm, jwk: { kty?: unknown; crv?: unknown }): boolean {
  const spec = specs[alg]
  if (jwk.kty !== spec.keyType) return false
  if (spec.crv) return jwk.crv === spec.crv
  if (spec.keyType === 'OKP') return jwk.crv === 'Ed25519'
  return true
}

export function verifySignature(
  alg: JWSAlgorithm,
  key: KeyObject,
  signingInput: string | Buffer,
  signature: Uint8Array,
): boolean {
  const spec = specs[alg]
  try {
    if (spec.ecSize) {
      const der = joseToDER(signature, spec.ecSize)
      return der !== undefined && verify(spec.digest, toBuffer(signingInput), key, der)
    }
    if (spec.pss) {
      return verify(
        spec.digest,
        toBuffer(signingInput),
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST },
        signature,
      )
    }
    return verify(spec.digest, toBuffer(signingInput), key, signature)
  } catch {
    // A key of the wrong type or size for the algorithm.
    return false
  }
}

/** ES256 signing with a KeyObject, returning the JOSE signature. */
export function signES256(key: KeyObject, signingInput: string): Buffer {
  return derToJOSE(sign('sha256', Buffer.from(signingInput), key), 32)
}

export function importPublicJWK(jwk: Record<string, unknown>): KeyObject {
  return createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' })
}

function toBuffer(input: string | Buffer): Buffer {
  return typeof input === 'string' ? Buffer.from(input) : input
}
