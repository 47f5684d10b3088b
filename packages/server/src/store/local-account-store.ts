/** An email-and-password account of the hosted login; its identity is (`local`, email). */
export interface LocalAccount {
  tenantId: string
  /** Normalised: see `normalizeEmail`. */
  email: string
  /** Argon2id, PHC string format. */
  passwordHash: string
  createdAt: number
  updatedAt: number
}

export interface LocalAccountStore {
  get(tenantId: string, email: string): Promise<LocalAccount | undefined>
  /** Inserts the account unless the email is taken in the tenant; false then. */
  createIfAbsent(account: LocalAccount): Promise<boolean>
}
