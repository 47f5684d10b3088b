import type { Profile, ProfileStore } from '../profile-store.ts'
import { affected, type Executor, insertRow, optional } from './executor.ts'

export class KyselyProfileStore implements ProfileStore {
  readonly #db: Executor
  constructor(db: Executor) {
    this.#db = db
  }

  async get(tenantId: string, id: string): Promise<Profile | undefined> {
    const row = await this.#db
      .selectFrom('profiles')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst()
    return (
      row && {
        id: row.id,
        tenantId: row.tenant_id,
        kind: row.kind,
        createdAt: row.created_at,
        lastActiveAt: row.last_active_at,
        attachedAt: optional(row.attached_at),
      }
    )
  }

  async create(profile: Profile): Promise<void> {
    await insertRow(this.#db, 'profiles', {
      id: profile.id,
      tenant_id: profile.tenantId,
      kind: profile.kind,
      created_at: profile.createdAt,
      last_active_at: profile.lastActiveAt,
      attached_at: profile.attachedAt ?? null,
    })
  }

  async touch(id: string, at: number): Promise<void> {
    await this.#db.updateTable('profiles').set({ last_active_at: at }).where('id', '=', id).execute()
  }

  async attach(tenantId: string, id: string, at: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('profiles')
      .set({ kind: 'identified', attached_at: at, last_active_at: at })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('kind', '=', 'anonymous')
      .executeTakeFirst()
    return affected(result) === 1
  }

  async delete(tenantId: string, id: string): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('profiles')
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst()
    return affected(result) > 0
  }
}
