/** An identity (a way a person signs in) and the profile it belongs to. */
export interface Identity {
  id: string
  tenantId: string
  /** `local` (email and password), `passkey`, `oidc:{provider name}`. */
  provider: string
  /** The provider's stable identifier for the person, e.g. a local account's normalised email. */
  subject: string
  profileId: string
  createdAt: number
}

export interface IdentityStore {
  find(tenantId: string, provider: string, subject: string): Promise<Identity | undefined>
  listForProfile(tenantId: string, profileId: string): Promise<Identity[]>
  /**
   * Inserts the identity unless one with the same tenant, provider and subject exists; false
   * then. On PostgreSQL an insert racing another transaction's waits for it to end instead of
   * failing, so the loser learns it lost without aborting its transaction.
   */
  createIfAbsent(identity: Identity): Promise<boolean>
  /** False when there is no such identity. */
  delete(tenantId: string, provider: string, subject: string): Promise<boolean>
}
