/**
 * Authorization codes (RFC 6749 §4.1.2): who signed in, for which request, until redeemed once.
 * A used code keeps its row until it expires, so that presenting it again revokes what it granted.
 */
export interface AuthorizationCodesTable {
  /** Time-ordered id: the part of the code before the dot. */
  code_id: string
  /** SHA-256 of the secret part. */
  code_hash: string
  tenant_id: string
  client_id: string
  redirect_uri: string
  scope: string
  code_challenge: string | null
  code_challenge_method: string | null
  /** RFC 9449 §10: the token request must carry a DPoP proof by this key. */
  dpop_jkt: string | null
  /** The identity that signed in. */
  provider: string
  subject: string
  acr: string
  /** JSON string array. */
  amr: string
  auth_time: number
  /** The anonymous profile and token family that the sign-in started from, if any. */
  anonymous_profile_id: string | null
  anonymous_grant_id: string | null
  created_at: number
  expires_at: number
  used_at: number | null
  /** The grant (token family) the redemption created; revoked if the code is presented again. */
  grant_id: string | null
}
