export interface SigningKeyRecord {
  kid: string
  tenantId: string
  alg: string
  publicJWK: JsonWebKey
  /** Sealed PKCS#8 PEM. */
  privateKey: string
  status: 'active' | 'retired'
  createdAt: number
  retiredAt: number | undefined
  publishUntil: number | undefined
}

export interface SigningKeyStore {
  /** The active key and the retired keys still published at `now`, newest first. */
  listPublished(tenantId: string, now: number): Promise<SigningKeyRecord[]>
  insert(key: SigningKeyRecord): Promise<void>
  /** Retires the tenant's active keys; returns how many. */
  retireActive(tenantId: string, options: { retiredAt: number; publishUntil: number }): Promise<number>
  deleteUnpublished(now: number): Promise<number>
}
