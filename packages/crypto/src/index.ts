export type { CompactJWSParts, DecodedJWS } from './compact-jws.ts'
export {
  decodeJSONObject,
  decodeJWS,
  encodeJSON,
  encodeJWSSigningInput,
  JWSFormatError,
  splitCompactJWS,
} from './compact-jws.ts'
export { DPoPHeaderCache, DPoPHeaderError, type DPoPHeaderKey, normalizeHTU } from './dpop.ts'
export { derToJOSE, joseToDER } from './ecdsa-signature.ts'
export { jwkThumbprint } from './jwk-thumbprint.ts'
export type { JWSAlgorithm, SigningAlgorithm } from './jws-algorithms.ts'
export {
  hasPrivateMembers,
  importPublicJWK,
  isJWSAlgorithm,
  JWSAlgorithms,
  keyMatchesAlgorithm,
  signJWS,
  verifySignature,
  verifySignatureInThreadPool,
} from './jws-algorithms.ts'
export { sha256Base64url } from './sha256.ts'
