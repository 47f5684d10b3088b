/** A grant is a token family (`sid`): every refresh and access token issued from one authentication. */
export interface GrantsTable {
  id: string
  tenant_id: string
  profile_id: string
  client_id: string
  device_id: string | null
  jkt: string | null
  scope: string
  acr: string
  /** JSON string array. */
  amr: string
  created_at: number
  expires_at: number
  revoked_at: number | null
  revoked_reason: string | null
}
