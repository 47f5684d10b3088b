export interface AppleEnrollmentsTable {
  id: string
  tenant_id: string
  profile_id: string
  grant_id: string
  enrollment_type: string
  managed_apple_id: string
  status: string
  udid: string | null
  user_enrollment_id: string | null
  serial_number: string | null
  product: string | null
  os_build: string | null
  os_version: string | null
  language: string | null
  topic: string | null
  /** Hexadecimal, as APNs takes it. */
  push_token: string | null
  push_magic: string | null
  identity_serial: string | null
  identity_sha256: string | null
  /** Sealed with the master key. */
  unlock_token: string | null
  created_at: number
  updated_at: number
  last_seen_at: number
  checked_out_at: number | null
}
