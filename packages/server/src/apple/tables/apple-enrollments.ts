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
  /** Seconds since the epoch; null for enrollments recorded before it was kept. */
  identity_not_after: number | null
  /** A renewal under way: the `InstallProfile` command and the identity it carries. */
  renewal_command_uuid: string | null
  renewal_identity_serial: string | null
  renewal_identity_sha256: string | null
  renewal_identity_not_after: number | null
  /** The profile the command installs, sealed with the master key. */
  renewal_profile: string | null
  /** Sealed with the master key. */
  unlock_token: string | null
  created_at: number
  updated_at: number
  last_seen_at: number
  checked_out_at: number | null
}
