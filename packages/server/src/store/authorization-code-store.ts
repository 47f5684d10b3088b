/** An issued authorization code, as stored: everything its redemption needs, no secret. */
export interface AuthorizationCodeRecord {
  codeId: string
  /** Hash of the code's secret part. */
  codeHash: string
  tenantId: string
  clientId: string
  redirectUri: string
  scope: string
  codeChallenge: string | undefined
  codeChallengeMethod: 'S256' | undefined
  /** The key the token request's DPoP proof must be made with (RFC 9449 §10). */
  dpopJkt: string | undefined
  /** The identity that signed in. */
  provider: string
  subject: string
  acr: string
  amr: string[]
  authTime: number
  /** Where the sign-in started: an anonymous profile and its token family. */
  anonymousProfileId: string | undefined
  anonymousGrantId: string | undefined
  createdAt: number
  expiresAt: number
  usedAt: number | undefined
  /** The grant its redemption created. */
  grantId: string | undefined
}

export interface AuthorizationCodeStore {
  get(codeId: string): Promise<AuthorizationCodeRecord | undefined>
  create(record: AuthorizationCodeRecord): Promise<void>
  /**
   * Marks the code used by the grant `grantId`, if it was not used yet; false means another
   * request used it first. Conditional, so of two concurrent redemptions one wins.
   */
  markUsed(codeId: string, at: number, grantId: string): Promise<boolean>
  /** Deletes up to `limit` codes that expired before `now`; returns how many. */
  deleteExpired(now: number, limit: number): Promise<number>
}
