/** One attribute of a profile. */
export interface ProfileAttribute {
  name: string
  /** The value serialized as JSON: stored and served as it is. */
  value: string
  updatedAt: number
}

/** What a profile's attributes take: how many, and the UTF-8 bytes of their values. */
export interface ProfileAttributeUsage {
  count: number
  bytes: number
}

export interface ProfileAttributeStore {
  /** Every attribute of the profile, in code-point order of their names. */
  list(tenantId: string, profileId: string): Promise<ProfileAttribute[]>
  get(tenantId: string, profileId: string, name: string): Promise<ProfileAttribute | undefined>
  /** Creates the attribute or replaces its value. */
  put(tenantId: string, profileId: string, attribute: ProfileAttribute): Promise<void>
  delete(tenantId: string, profileId: string, name: string): Promise<boolean>
  /** Deletes every attribute of the profile; returns how many. */
  deleteAll(tenantId: string, profileId: string): Promise<number>
  usage(tenantId: string, profileId: string): Promise<ProfileAttributeUsage>
}
