export interface SigningKeysTable {
  kid: string
  tenant_id: string
  alg: string
  /** JSON of the public JWK. */
  public_jwk: string
  /** PKCS#8 PEM sealed with the master key (`SecretBox`). */
  private_key: string
  status: 'active' | 'retired'
  created_at: number
  retired_at: number | null
  /** After this the retired key is no longer published: every token it signed has expired. */
  publish_until: number | null
}
