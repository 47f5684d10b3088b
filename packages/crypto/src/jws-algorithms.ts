import {
  constants,
  createPublicKey,
  type KeyObject,
  sign,
  type VerifyKeyObjectInput,
  verify,
} from 'node:crypto'
import { derToJOSE, joseToDER } from './ecdsa-signature.ts'

/**
 * Asymmetric JWS algorithms we verify (RFC 7518 §3, RFC 8037, and RFC 9864's fully-specified
 * `Ed25519`, which current clients such as oauth4webapi send for Ed25519 keys instead of `EdDSA`).
 * `none` and HMAC never appear.
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

const privateMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth']

/** Whether a JWK carries private key material (it must never appear in a DPoP proof or response key). */
export function hasPrivateMembers(jwk: Record<string, unknown>): boolean {
  return privateMembers.some((member) => member in jwk)
}

interface PreparedVerification {
  digest: string | null
  key: KeyObject | VerifyKeyObjectInput
  signature: Uint8Array
}

/** The digest, key input and DER (for ECDSA) signature node:crypto wants, or undefined if malformed. */
function prepare(alg: JWSAlgorithm, key: KeyObject, signature: Uint8Array): PreparedVerification | undefined {
  const spec = specs[alg]
  if (spec.ecSize !== undefined) {
    const der = joseToDER(signature, spec.ecSize)
    return der && { digest: spec.digest, key, signature: der }
  }
  if (spec.pss) {
    const input = {
      key,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
    }
    return { digest: spec.digest, key: input, signature }
  }
  return { digest: spec.digest, key, signature }
}

/** Verifies a JWS signature on the calling thread: for short checks where a thread hop costs more. */
export function verifySignature(
  alg: JWSAlgorithm,
  key: KeyObject,
  signingInput: string | Buffer,
  signature: Uint8Array,
): boolean {
  const prepared = prepare(alg, key, signature)
  if (!prepared) return false
  try {
    return verify(prepared.digest, toBuffer(signingInput), prepared.key, prepared.signature)
  } catch {
    // A key of the wrong type or size for the algorithm.
    return false
  }
}

/**
 * Verifies a JWS signature on libuv's thread pool (node:crypto's callback form), so the event loop
 * keeps parsing and answering requests while signatures are checked on other cores.
 */
export function verifySignatureInThreadPool(
  alg: JWSAlgorithm,
  key: KeyObject,
  signingInput: string | Buffer,
  signature: Uint8Array,
): Promise<boolean> {
  const prepared = prepare(alg, key, signature)
  if (!prepared) return Promise.resolve(false)
  return new Promise((resolve) => {
    try {
      verify(prepared.digest, toBuffer(signingInput), prepared.key, prepared.signature, (error, valid) =>
        resolve(!error && valid),
      )
    } catch {
      resolve(false)
    }
  })
}

/** The algorithms our own tokens are signed with. */
export type SigningAlgorithm = 'ES256' | 'Ed25519'

/**
 * Signs with a KeyObject on the thread pool, returning the JOSE signature: ES256 (a P-256 key;
 * node:crypto's DER signature converted) or Ed25519 (RFC 8037's EdDSA, named as RFC 9864 does).
 */
export function signJWS(alg: SigningAlgorithm, key: KeyObject, signingInput: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    sign(alg === 'ES256' ? 'sha256' : null, Buffer.from(signingInput), key, (error, signature) =>
      error ? reject(error) : resolve(alg === 'ES256' ? derToJOSE(signature, 32) : signature),
    )
  })
}

/** DER prefixes of SubjectPublicKeyInfo for the key types whose public key is just bytes. */
const spkiPrefixes: Record<string, { prefix: Buffer; size: number; point: boolean }> = {
  'P-256': {
    prefix: Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex'),
    size: 32,
    point: true,
  },
  'P-384': {
    prefix: Buffer.from('3076301006072a8648ce3d020106052b81040022036200', 'hex'),
    size: 48,
    point: true,
  },
  'P-521': {
    prefix: Buffer.from('30819b301006072a8648ce3d020106052b8104002303818600', 'hex'),
    size: 66,
    point: true,
  },
  Ed25519: { prefix: Buffer.from('302a300506032b6570032100', 'hex'), size: 32, point: false },
}

/**
 * Imports a public JWK. EC and Ed25519 keys go in as SPKI PEM text: node:crypto takes a string
 * about twice as fast as a JWK object, whose type checks throw and catch an error on the way
 * (a cost per new DPoP key, so per anonymous enrollment).
 */
export function importPublicJWK(jwk: Record<string, unknown>): KeyObject {
  const spec =
    typeof jwk.crv === 'string' && (jwk.kty === 'EC' || jwk.kty === 'OKP') ? spkiPrefixes[jwk.crv] : undefined
  if (!spec || (jwk.kty === 'EC') !== spec.point) {
    return createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' })
  }
  const x = decodeCoordinate(jwk.x, spec.size)
  const y = spec.point ? decodeCoordinate(jwk.y, spec.size) : undefined
  if (!x || (spec.point && !y)) throw new TypeError('invalid key coordinates')
  const der = Buffer.concat(spec.point ? [spec.prefix, Buffer.of(4), x, y!] : [spec.prefix, x])
  return createPublicKey(`-----BEGIN PUBLIC KEY-----\n${der.toString('base64')}\n-----END PUBLIC KEY-----\n`)
}

function decodeCoordinate(value: unknown, size: number): Buffer | undefined {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]+$/.test(value)) return undefined
  const bytes = Buffer.from(value, 'base64url')
  return bytes.length === size ? bytes : undefined
}

function toBuffer(input: string | Buffer): Buffer {
  return typeof input === 'string' ? Buffer.from(input) : input
}
