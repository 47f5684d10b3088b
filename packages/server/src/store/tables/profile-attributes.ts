export interface ProfileAttributesTable {
  tenant_id: string
  profile_id: string
  name: string
  /** The value as JSON text, served as stored. */
  value: string
  /** UTF-8 bytes of `value`: quotas are summed without reading the values. */
  size: number
  updated_at: number
}
