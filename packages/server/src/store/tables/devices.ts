export interface DevicesTable {
  id: string
  tenant_id: string
  profile_id: string
  client_id: string
  jkt: string
  authentication_mode: string
  hardware_key: number
  created_at: number
  last_seen_at: number
  revoked_at: number | null
}
