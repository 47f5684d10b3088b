export interface TenantsTable {
  id: string
  name: string
  /** JSON of `TenantSettings`. */
  settings: string
  created_at: number
}
