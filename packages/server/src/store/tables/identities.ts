/** How a person signs in, linked to the profile it belongs to: unique per tenant, provider and subject. */
export interface IdentitiesTable {
  id: string
  tenant_id: string
  /** `local`, `passkey`, `oidc:{name}`. */
  provider: string
  /** The provider's stable identifier for the person: a local account's normalised email, … */
  subject: string
  profile_id: string
  created_at: number
}
