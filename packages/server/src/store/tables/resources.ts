export interface ResourcesTable {
  tenant_id: string
  audience: string
  name: string
  /** JSON string array of the scopes the resource defines. */
  scopes: string
  /** JSON of `ExchangePolicy`. */
  policy: string
  access_token_ttl: number | null
  /** SHA-256 of the secret the resource introspects with; null when it has none. */
  secret_hash: string | null
  created_at: number
}
