export interface RefreshTokensTable {
  /** Time-ordered id: the part of the token before the dot. */
  token_id: string
  /** SHA-256 of the secret part; the secret itself is never stored. */
  token_hash: string
  grant_id: string
  tenant_id: string
  created_at: number
  /** Idle expiry: each rotation issues a token that lives this long, capped by the grant's expiry. */
  expires_at: number
  used_at: number | null
}
