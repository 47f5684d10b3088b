/** A passkey: a WebAuthn credential that signs in as the `passkey` identity of its user handle. */
export interface PasskeyCredential {
  tenantId: string
  /** base64url */
  credentialId: string
  /** base64url; the `passkey` identity's subject. */
  userHandle: string
  /** COSE public key, base64url. */
  publicKey: string
  counter: number
  transports: string[]
  createdAt: number
  lastUsedAt: number | undefined
}

export interface PasskeyCredentialStore {
  get(tenantId: string, credentialId: string): Promise<PasskeyCredential | undefined>
  /** Inserts the credential unless its id is taken in the tenant; false then. */
  createIfAbsent(credential: PasskeyCredential): Promise<boolean>
  /** Records a sign-in: the authenticator's new counter and when. */
  recordUse(tenantId: string, credentialId: string, use: { counter: number; usedAt: number }): Promise<void>
  /** The credentials of these user handles, oldest first. */
  listForUserHandles(tenantId: string, userHandles: readonly string[]): Promise<PasskeyCredential[]>
  /** False when there is no such credential. */
  delete(tenantId: string, credentialId: string): Promise<boolean>
}
