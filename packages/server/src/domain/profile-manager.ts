import { createHash } from 'node:crypto'
import { AppError } from '../errors/app-error.ts'
import type { ProfileAttribute } from '../store/profile-attribute-store.ts'
import type { ProfileFootprint } from '../store/profile-retention-store.ts'
import type { Store, Stores } from '../store/stores.ts'
import type { AttributeQuota, TenantSettings } from '../store/tenant-store.ts'
import type { Clock } from './clock.ts'

/** What a profile may hold: the tenant's quota, and names and nesting every tenant shares. */
export interface AttributeLimits extends AttributeQuota {
  /** Attribute names: letters, digits, `_`, `.` and `-`. */
  namePattern: RegExp
  /** Nesting of arrays and objects in one value. */
  maxDepth: number
}

export const defaultAttributeLimits: AttributeLimits = {
  namePattern: /^[A-Za-z0-9_.-]{1,64}$/,
  maxValueBytes: 16 * 1024,
  maxCount: 100,
  maxTotalBytes: 256 * 1024,
  maxDepth: 32,
}

export function attributeLimitsOf(settings: TenantSettings): AttributeLimits {
  return settings.attributeQuota
    ? { ...defaultAttributeLimits, ...settings.attributeQuota }
    : defaultAttributeLimits
}

/** An attribute as served: its JSON text, and a version that changes whenever the value does. */
export interface StoredAttribute {
  name: string
  /** The value as JSON text. */
  json: string
  /** Opaque; the HTTP layer serves it as the strong `ETag`. */
  version: string
  updatedAt: number
}

/**
 * Conditions on the current version of an attribute (RFC 9110 §13.1.1–13.1.2 semantics): `*`
 * means "exists"; a list, "has one of these versions". A write whose conditions fail changes nothing.
 */
export interface AttributePreconditions {
  ifMatch?: '*' | readonly string[]
  ifNoneMatch?: '*' | readonly string[]
}

/**
 * Profiles as their subjects see them: attributes (any JSON, within `AttributeLimits`), and
 * deleting one's own anonymous profile. Attribute writes count as activity: they keep an
 * anonymous profile from the inactivity sweep.
 */
export class ProfileManager {
  readonly #store: Store
  readonly #clock: Clock
  readonly #limitsOf: (tenantId: string) => Promise<AttributeLimits>

  constructor(options: {
    store: Store
    clock: Clock
    /** The tenant's limits (its `attributeQuota`). */
    limitsOf: (tenantId: string) => Promise<AttributeLimits>
  }) {
    this.#store = options.store
    this.#clock = options.clock
    this.#limitsOf = options.limitsOf
  }

  async listAttributes(tenantId: string, profileId: string): Promise<StoredAttribute[]> {
    return (await this.#store.profileAttributes.list(tenantId, profileId)).map(stored)
  }

  async getAttribute(tenantId: string, profileId: string, name: string): Promise<StoredAttribute> {
    this.#checkName(name)
    const attribute = await this.#store.profileAttributes.get(tenantId, profileId, name)
    if (!attribute) throw new AppError('not_found', `attribute "${name}" does not exist`)
    return stored(attribute)
  }

  /** Creates or replaces an attribute; `created` tells which. */
  async putAttribute(
    tenantId: string,
    profileId: string,
    name: string,
    value: unknown,
    preconditions: AttributePreconditions = {},
  ): Promise<{ attribute: StoredAttribute; created: boolean }> {
    this.#checkName(name)
    const json = this.#serialize(value)
    const bytes = Buffer.byteLength(json, 'utf8')
    const limits = await this.#limitsOf(tenantId)
    if (bytes > limits.maxValueBytes) {
      throw new AppError(
        'payload_too_large',
        `attribute value is ${bytes} bytes as JSON; at most ${limits.maxValueBytes} are allowed`,
      )
    }
    const now = this.#clock.now()
    return this.#store.transaction(async (stores) => {
      const current = await this.#begin(stores, tenantId, profileId, name, now, preconditions)
      const usage = await stores.profileAttributes.usage(tenantId, profileId)
      const currentBytes = current ? Buffer.byteLength(current.value, 'utf8') : 0
      if (!current && usage.count >= limits.maxCount) {
        throw new AppError(
          'conflict',
          `the profile already has ${usage.count} attributes, the most allowed; delete one first`,
        )
      }
      const total = usage.bytes - currentBytes + bytes
      if (total > limits.maxTotalBytes) {
        throw new AppError(
          'conflict',
          `the profile's attribute values would take ${total} bytes; at most ${limits.maxTotalBytes} are allowed`,
        )
      }
      const attribute: ProfileAttribute = { name, value: json, updatedAt: now }
      await stores.profileAttributes.put(tenantId, profileId, attribute)
      return { attribute: stored(attribute), created: !current }
    })
  }

  async deleteAttribute(
    tenantId: string,
    profileId: string,
    name: string,
    preconditions: AttributePreconditions = {},
  ): Promise<void> {
    this.#checkName(name)
    const now = this.#clock.now()
    await this.#store.transaction(async (stores) => {
      const current = await this.#begin(stores, tenantId, profileId, name, now, preconditions)
      if (!current) throw new AppError('not_found', `attribute "${name}" does not exist`)
      await stores.profileAttributes.delete(tenantId, profileId, name)
    })
  }

  /**
   * An anonymous subject deletes its own profile, and with it its devices, grants (so every
   * token) and attributes. Identified profiles are not deleted this way.
   */
  deleteAnonymousProfile(tenantId: string, profileId: string): Promise<ProfileFootprint> {
    return this.#store.transaction(async (stores) => {
      const profile = await stores.profiles.get(tenantId, profileId)
      if (!profile) throw new AppError('not_found', 'the profile does not exist')
      if (profile.kind !== 'anonymous') {
        throw new AppError(
          'forbidden',
          'only an anonymous profile can be deleted by its subject; an identified profile is deleted by an administrator',
        )
      }
      const footprint = await stores.profileRetention.footprint(tenantId, { ids: [profileId] })
      await stores.profiles.delete(tenantId, profileId)
      return footprint
    })
  }

  /**
   * Starts an attribute write: marks the profile active first (on PostgreSQL that locks its row,
   * so writes to one profile run one after another and quotas and preconditions hold), then
   * checks the preconditions against the current value.
   */
  async #begin(
    stores: Stores,
    tenantId: string,
    profileId: string,
    name: string,
    now: number,
    preconditions: AttributePreconditions,
  ): Promise<ProfileAttribute | undefined> {
    await stores.profiles.touch(profileId, now)
    if (!(await stores.profiles.get(tenantId, profileId)))
      throw new AppError('not_found', 'the profile does not exist')
    const current = await stores.profileAttributes.get(tenantId, profileId, name)
    const version = current && versionOf(current.value)
    const { ifMatch, ifNoneMatch } = preconditions
    if (ifMatch !== undefined && !(version !== undefined && (ifMatch === '*' || ifMatch.includes(version)))) {
      throw new AppError('precondition_failed', `attribute "${name}" does not have the expected version`)
    }
    if (
      ifNoneMatch !== undefined &&
      version !== undefined &&
      (ifNoneMatch === '*' || ifNoneMatch.includes(version))
    ) {
      throw new AppError(
        'precondition_failed',
        ifNoneMatch === '*' ? `attribute "${name}" already exists` : `attribute "${name}" has that version`,
      )
    }
    return current
  }

  #checkName(name: string): void {
    if (!defaultAttributeLimits.namePattern.test(name)) {
      throw new AppError(
        'invalid_input',
        'attribute names are 1–64 characters: letters, digits, "_", "." and "-"',
      )
    }
  }

  /** Compact JSON of a parsed value, refusing what JSON cannot carry faithfully. */
  #serialize(value: unknown): string {
    if (value === undefined) throw new AppError('invalid_input', 'the body must be a JSON value')
    // Iterative, so a deeply nested value is refused here instead of overflowing the stack below.
    const pending: { value: unknown; depth: number }[] = [{ value, depth: 0 }]
    for (let next = pending.pop(); next; next = pending.pop()) {
      if (typeof next.value === 'number' && !Number.isFinite(next.value))
        throw new AppError('invalid_input', 'numbers must be finite')
      if (next.value === null || typeof next.value !== 'object') continue
      if (next.depth >= defaultAttributeLimits.maxDepth) {
        throw new AppError(
          'invalid_input',
          `attribute values may nest arrays and objects ${defaultAttributeLimits.maxDepth} deep at most`,
        )
      }
      for (const child of Object.values(next.value)) pending.push({ value: child, depth: next.depth + 1 })
    }
    return JSON.stringify(value)
  }
}

function stored(attribute: ProfileAttribute): StoredAttribute {
  return {
    name: attribute.name,
    json: attribute.value,
    version: versionOf(attribute.value),
    updatedAt: attribute.updatedAt,
  }
}

/** The value's hash: equal values have equal versions, which is what a strong validator needs. */
function versionOf(json: string): string {
  return createHash('sha256').update(json).digest('base64url').slice(0, 22)
}
