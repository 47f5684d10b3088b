/** The subject of tokens: `sub` is the profile id. */
export interface Profile {
  id: string
  tenantId: string
  kind: 'anonymous' | 'identified'
  createdAt: number
  lastActiveAt: number
}

export interface ProfileStore {
  get(tenantId: string, id: string): Promise<Profile | undefined>
  create(profile: Profile): Promise<void>
  touch(id: string, at: number): Promise<void>
  delete(tenantId: string, id: string): Promise<boolean>
}
