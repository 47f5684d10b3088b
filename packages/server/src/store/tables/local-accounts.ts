/** Email-and-password accounts of the hosted login. */
export interface LocalAccountsTable {
  tenant_id: string
  /** Normalised (NFC, trimmed, lower case): the `local` identity's subject. */
  email: string
  /** Argon2id, PHC string format. */
  password_hash: string
  created_at: number
  updated_at: number
}
