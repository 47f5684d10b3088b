import { type AuthenticationMode, AuthenticationModes } from '@onramp/protocol'
import { type TObject, type TProperties, Type } from '@sinclair/typebox'
import { versionPattern } from '../../domain/app-config-manager.ts'
import { PathText, withoutControlCharacters } from '../schemas.ts'

/** A request body object that refuses properties it does not name. */
export function StrictObject<T extends TProperties>(properties: T): TObject<T> {
  return Type.Object(properties, { additionalProperties: false })
}

/** Path parameters of everything under `/tenants/:tenant`. */
export const TenantParams = Type.Object({ tenant: PathText(64) })

/**
 * The query of a paged list of a tenant's devices or enrollments: values stay strings (no
 * coercion), `limit` is converted by the route and checked by the manager.
 */
export const PageQuery = StrictObject({
  profile_id: Type.Optional(PathText(64)),
  limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,5}$' })),
  after: Type.Optional(PathText(64)),
})

/** A display name: one line of text. */
export const Name = Type.String({ minLength: 1, maxLength: 200, pattern: withoutControlCharacters })

export const Scopes = Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 100 })

export const Seconds = Type.Integer({ minimum: 1 })

export const AuthenticationModeList = Type.Array(
  Type.Unsafe<AuthenticationMode>({ type: 'string', enum: [...AuthenticationModes] }),
  { maxItems: AuthenticationModes.length },
)

const Version = Type.String({ pattern: versionPattern.source, maxLength: 64 })

const VersionRange = StrictObject({
  min_version: Type.Optional(Version),
  latest_version: Type.Optional(Version),
})

export const AppPolicyInput = StrictObject({
  min_version: Type.Optional(Version),
  latest_version: Type.Optional(Version),
  platforms: Type.Optional(
    Type.Record(Type.String({ pattern: '^[a-z0-9-]{1,32}$' }), VersionRange, { additionalProperties: false }),
  ),
})

/** The empty 204 response. */
export const NoContent = Type.Null()
