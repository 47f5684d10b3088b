/** WebAuthn credentials (passkeys) of the hosted login. */
export interface PasskeyCredentialsTable {
  tenant_id: string
  /** The credential id, base64url. */
  credential_id: string
  /** The WebAuthn user handle, base64url: the subject of the `passkey` identity it signs in as. */
  user_handle: string
  /** COSE public key, base64url. */
  public_key: string
  /** The authenticator's signature counter (0 when it keeps none). */
  counter: number
  /** JSON array of the transports the authenticator reported (`internal`, `usb`, `hybrid`, …). */
  transports: string
  created_at: number
  last_used_at: number | null
  /** What the person calls it; null: unnamed. */
  name: string | null
  /** The authenticator's AAGUID (its make and model), as the registration reported it. */
  aaguid: string | null
  /** `single_device` or `multi_device` (backup eligible: a synced passkey). */
  device_type: string | null
}
