/** JOSE header of an RFC 9449 DPoP proof. */
export interface DPoPProofHeader {
  typ: 'dpop+jwt'
  alg: string
  /** The public key (no private members); tokens are bound to its RFC 7638 thumbprint. */
  jwk: JsonWebKey
}

/** Claims of an RFC 9449 DPoP proof (§4.2). */
export interface DPoPProofClaims {
  jti: string
  htm: string
  /** The request URL without query and fragment. */
  htu: string
  iat: number
  /** base64url SHA-256 of the access token, when one is presented. */
  ath?: string
  /** The server's latest `DPoP-Nonce`, when it asked for one. */
  nonce?: string
  /** Payload encryption: base64url SHA-256 of the compact JWE request body. */
  ebh?: string
  /** Payload encryption: RFC 7638 thumbprint of the `Onramp-Response-Key` JWK. */
  rkt?: string
}

/** Response header that carries a server's DPoP nonce (RFC 9449 §8). */
export const DPoPNonceHeader = 'DPoP-Nonce'
