export interface ResourcesTable {
  tenant_id: string
  audience: string
  name: string
  /** JSON string array of the scopes the resource defines. */
  scopes: string
  /** JSON of `ExchangePolicy`. */
  policy: string
  access_token_ttl: number | null
  created_at: number
}
