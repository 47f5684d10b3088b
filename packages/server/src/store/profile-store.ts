/** The subject of tokens: `sub` is the profile id. */
export interface Profile {
  id: string
  tenantId: string
  kind: 'anonymous' | 'identified'
  createdAt: number
  lastActiveAt: number
  /** When this profile, created anonymous, was attached to an identity (see `ProfilesTable`). */
  attachedAt: number | undefined
}

export interface ProfileStore {
  get(tenantId: string, id: string): Promise<Profile | undefined>
  create(profile: Profile): Promise<void>
  touch(id: string, at: number): Promise<void>
  /**
   * Turns an anonymous profile into an identified one, recording when. Conditional: false when
   * the profile is missing or no longer anonymous, so of two concurrent attachments one wins.
   */
  attach(tenantId: string, id: string, at: number): Promise<boolean>
  delete(tenantId: string, id: string): Promise<boolean>
}
