/** A token family (`sid`): what one authentication granted, and every token issued from it. */
export interface Grant {
  id: string
  tenantId: string
  profileId: string
  clientId: string
  deviceId: string | undefined
  /** Set when the grant is DPoP-bound: every token of the family is bound to this key. */
  jkt: string | undefined
  scope: string
  acr: string
  amr: string[]
  createdAt: number
  expiresAt: number
  revokedAt: number | undefined
  revokedReason: string | undefined
}

/** What deciding whether a family is still active needs: read on every token check, without the rest. */
export type GrantStatus = Pick<Grant, 'profileId' | 'expiresAt' | 'revokedAt'>

export type GrantRevocationReason =
  | 'refresh_token_reuse'
  | 'revoked'
  | 'device_revoked'
  | 'profile_attached'
  | 'authorization_code_reuse'
  | 'admin'

export interface GrantStore {
  get(tenantId: string, id: string): Promise<Grant | undefined>
  status(tenantId: string, id: string): Promise<GrantStatus | undefined>
  create(grant: Grant): Promise<void>
  /** Returns whether the grant was active before. */
  revoke(tenantId: string, id: string, reason: GrantRevocationReason, at: number): Promise<boolean>
  revokeForDevice(
    tenantId: string,
    deviceId: string,
    reason: GrantRevocationReason,
    at: number,
  ): Promise<number>
  /** Revokes every active grant of the profile; returns how many. */
  revokeForProfile(
    tenantId: string,
    profileId: string,
    reason: GrantRevocationReason,
    at: number,
  ): Promise<number>
}
