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
  /** What the person calls it (at most 64 characters). */
  name?: string | undefined
  /** The authenticator's AAGUID, as the registration reported it (zeros when it would not say). */
  aaguid?: string | undefined
  /** WebAuthn's credential device type: `multi_device` when the passkey can be synced. */
  deviceType?: PasskeyDeviceType | undefined
}

export type PasskeyDeviceType = 'single_device' | 'multi_device'

export interface PasskeyCredentialStore {
  get(tenantId: string, credentialId: string): Promise<PasskeyCredential | undefined>
  /** Inserts the credential unless its id is taken in the tenant; false then. */
  createIfAbsent(credential: PasskeyCredential): Promise<boolean>
  /** Records a sign-in: the authenticator's new counter and when. */
  recordUse(tenantId: string, credentialId: string, use: { counter: number; usedAt: number }): Promise<void>
  /** Names the credential, or unnames it; false when there is no such credential. */
  rename(tenantId: string, credentialId: string, name: string | undefined): Promise<boolean>
  /** The credentials of these user handles, oldest first. */
  listForUserHandles(tenantId: string, userHandles: readonly string[]): Promise<PasskeyCredential[]>
  /** False when there is no such credential. */
  delete(tenantId: string, credentialId: string): Promise<boolean>
}
