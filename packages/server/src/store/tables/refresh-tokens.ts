export interface RefreshTokensTable {
  /** SHA-256 of the token; the token itself is never stored. */
  token_hash: string
  grant_id: string
  tenant_id: string
  created_at: number
  /** Idle expiry: each rotation issues a token that lives this long, capped by the grant's expiry. */
  expires_at: number
  used_at: number | null
}
