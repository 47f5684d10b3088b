export interface ProfilesTable {
  id: string
  tenant_id: string
  kind: 'anonymous' | 'identified'
  created_at: number
  last_active_at: number
  /**
   * When an anonymous profile was attached to the first identity that signed in from it and so
   * became identified (same id, attributes kept). Null for profiles created identified, and for
   * anonymous ones. A profile is attached at most once.
   */
  attached_at: number | null
}
