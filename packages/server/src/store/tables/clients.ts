export interface ClientsTable {
  tenant_id: string
  client_id: string
  name: string
  type: 'public' | 'confidential'
  secret_hash: string | null
  /** JSON string arrays. */
  grant_types: string
  scopes: string
  redirect_uris: string
  web_origins: string
  /** JSON of `AppVersionPolicy`, or null. */
  app_policy: string | null
  /** 1 or 0. */
  pkce_required: number
  created_at: number
}
