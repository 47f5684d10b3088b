export interface RefreshTokenRecord {
  tokenId: string
  /** Hash of the token's secret part. */
  tokenHash: string
  grantId: string
  tenantId: string
  createdAt: number
  expiresAt: number
  usedAt: number | undefined
}

export interface RefreshTokenStore {
  get(tokenId: string): Promise<RefreshTokenRecord | undefined>
  create(record: RefreshTokenRecord): Promise<void>
  /**
   * Marks the token used if it was not yet; false means another request used it first, which
   * the caller treats as reuse. Conditional, so two concurrent rotations cannot both win.
   */
  markUsed(tokenId: string, at: number): Promise<boolean>
  /** Deletes up to `limit` tokens that expired before `now`; returns how many. */
  deleteExpired(now: number, limit: number): Promise<number>
}
