export interface AppleConfigsTable {
  tenant_id: string
  /** JSON of `AppleSettings` without the managed domains (they have their own table). */
  settings: string
  ca_key_type: 'ec' | 'rsa' | null
  /** PEM. */
  ca_certificate: string | null
  /** PKCS #8 PEM sealed with the master key (`SecretBox`). */
  ca_private_key: string | null
  /** The MDM push certificate, PEM. */
  push_certificate: string | null
  /** Its PKCS #8 PEM key, sealed with the master key. */
  push_private_key: string | null
  push_environment: 'production' | 'sandbox' | null
  /** The enrollment profiles' signing certificate and its chain, PEM, the signer's first. */
  profile_signing_chain: string | null
  /** Its PKCS #8 PEM key, sealed with the master key. */
  profile_signing_private_key: string | null
  created_at: number
  updated_at: number
}
