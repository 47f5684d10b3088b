/**
 * End-to-end payload encryption between the SDK and a resource server (see
 * `docs/resource-server.md`): JWE compact serialization, both directions.
 */
export const PayloadEncryption = {
  /** JWE key management algorithm, on EC P-256 keys only. */
  keyManagementAlgorithm: 'ECDH-ES+A256KW',
  contentEncryptionAlgorithm: 'A256GCM',
  /** `Content-Type` of an encrypted body; the plaintext's media type is the JWE header's `cty`. */
  mediaType: 'application/jose',
  /** Request header: base64url(UTF-8 JSON of the client's public JWK) to encrypt the response to. */
  responseKeyHeader: 'Onramp-Response-Key',
  /** Path, on the resource's origin, of its encryption JWKS. */
  jwksPath: '/.well-known/onramp-encryption-jwks',
} as const
