export interface ProfilesTable {
  id: string
  tenant_id: string
  kind: 'anonymous' | 'identified'
  created_at: number
  last_active_at: number
}
