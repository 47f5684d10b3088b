/** What deleting profiles takes with it (the foreign keys cascade): rows per table. */
export interface ProfileFootprint {
  profiles: number
  devices: number
  grants: number
  refreshTokens: number
  attributes: number
}

/** Some profiles by id, or every anonymous profile of the tenant last active before a time. */
export type ProfileSelection = { ids: readonly string[] } | { inactiveBefore: number }

/** Which profiles to delete, what deleting them takes, and deleting them. */
export interface ProfileRetentionStore {
  /** How many anonymous profiles of the tenant were last active before `before`. */
  countInactive(tenantId: string, before: number): Promise<number>
  /**
   * Up to `limit` anonymous profiles of the tenant last active before `before`, least recently
   * active first. In a transaction on PostgreSQL they stay locked until commit (rows another
   * transaction holds are skipped), so nothing revives them between counting and deleting.
   */
  claimInactive(tenantId: string, before: number, limit: number): Promise<string[]>
  /** What deleting the selected profiles would delete; counts only. */
  footprint(tenantId: string, selection: ProfileSelection): Promise<ProfileFootprint>
  /** Deletes the profiles with their devices, grants, refresh tokens and attributes; returns how many. */
  deleteMany(tenantId: string, ids: readonly string[]): Promise<number>
}
