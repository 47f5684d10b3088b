import { type Static, Type } from '@sinclair/typebox'
import type { Account } from '../../domain/account-manager.ts'
import { attributeLimitsOf } from '../../domain/profile-manager.ts'
import type { AppVersionPolicy, AppVersionRange, Client } from '../../store/client-store.ts'
import type { Device } from '../../store/device-store.ts'
import type { PasskeyCredential } from '../../store/passkey-credential-store.ts'
import type { Resource } from '../../store/resource-store.ts'
import type { SigningKeyRecord } from '../../store/signing-key-store.ts'
import {
  type AttributeQuota,
  type LoginLockout,
  loginLockoutOf,
  signingAlgorithmOf,
  type Tenant,
} from '../../store/tenant-store.ts'

/**
 * What the admin API (and `onramp --json`) shows of each record: snake_case, times in seconds
 * since the epoch. Used as response schemas, so a field missing here (a secret hash, a private
 * key) can never reach a response.
 */

const Timestamp = Type.Integer({ description: 'seconds since the epoch' })

export const TenantView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  settings: Type.Object({
    access_token_ttl: Type.Integer(),
    refresh_token_idle_ttl: Type.Integer(),
    refresh_token_absolute_ttl: Type.Integer(),
    dpop_nonce: Type.Boolean(),
    offer_passkeys: Type.Boolean(),
    anonymous_inactivity_days: Type.Integer(),
    merge_policy: Type.String(),
    signing_alg: Type.String(),
    attribute_quota: Type.Object({
      max_value_bytes: Type.Integer(),
      max_count: Type.Integer(),
      max_total_bytes: Type.Integer(),
    }),
    login_lockout: Type.Object({
      failures: Type.Integer(),
      window_seconds: Type.Integer(),
      lock_seconds: Type.Integer(),
    }),
    upstream_providers: Type.Array(
      Type.Object({
        name: Type.String(),
        issuer: Type.String(),
        client_id: Type.String(),
        scopes: Type.Array(Type.String()),
        /** Whether a secret is set: the secret itself is never shown. */
        has_client_secret: Type.Boolean(),
      }),
    ),
  }),
  created_at: Timestamp,
})

export function tenantView(tenant: Tenant): Static<typeof TenantView> {
  const { settings } = tenant
  return {
    id: tenant.id,
    name: tenant.name,
    settings: {
      access_token_ttl: settings.accessTokenTtl,
      refresh_token_idle_ttl: settings.refreshTokenIdleTtl,
      refresh_token_absolute_ttl: settings.refreshTokenAbsoluteTtl,
      dpop_nonce: settings.dpopNonce,
      offer_passkeys: settings.offerPasskeys === true,
      anonymous_inactivity_days: settings.anonymousInactivityDays,
      merge_policy: settings.mergePolicy,
      signing_alg: signingAlgorithmOf(settings),
      attribute_quota: quotaView(attributeLimitsOf(settings)),
      login_lockout: lockoutView(loginLockoutOf(settings)),
      upstream_providers: (settings.upstreamProviders ?? []).map((provider) => ({
        name: provider.name,
        issuer: provider.issuer,
        client_id: provider.clientId,
        scopes: provider.scopes,
        has_client_secret: provider.sealedClientSecret !== undefined,
      })),
    },
    created_at: tenant.createdAt,
  }
}

const VersionRangeView = Type.Object({
  min_version: Type.Optional(Type.String()),
  latest_version: Type.Optional(Type.String()),
})

const AppPolicyView = Type.Object({
  min_version: Type.Optional(Type.String()),
  latest_version: Type.Optional(Type.String()),
  platforms: Type.Optional(Type.Record(Type.String(), VersionRangeView)),
})

export const ClientView = Type.Object({
  client_id: Type.String(),
  name: Type.String(),
  type: Type.Union([Type.Literal('public'), Type.Literal('confidential')]),
  grant_types: Type.Array(Type.String()),
  scopes: Type.Array(Type.String()),
  redirect_uris: Type.Array(Type.String()),
  web_origins: Type.Array(Type.String()),
  app_policy: Type.Optional(AppPolicyView),
  pkce_required: Type.Boolean(),
  created_at: Timestamp,
})

export function clientView(client: Client): Static<typeof ClientView> {
  return {
    client_id: client.clientId,
    name: client.name,
    type: client.type,
    grant_types: client.grantTypes,
    scopes: client.scopes,
    redirect_uris: client.redirectUris,
    web_origins: client.webOrigins,
    ...(client.appPolicy && { app_policy: appPolicyView(client.appPolicy) }),
    pkce_required: client.pkceRequired,
    created_at: client.createdAt,
  }
}

function appPolicyView(policy: AppVersionPolicy): Static<typeof AppPolicyView> {
  return {
    ...versionRangeView(policy),
    ...(policy.platforms && {
      platforms: Object.fromEntries(
        Object.entries(policy.platforms).map(([platform, range]) => [platform, versionRangeView(range)]),
      ),
    }),
  }
}

function versionRangeView(range: AppVersionRange): Static<typeof VersionRangeView> {
  return {
    ...(range.minVersion !== undefined && { min_version: range.minVersion }),
    ...(range.latestVersion !== undefined && { latest_version: range.latestVersion }),
  }
}

export const ResourceView = Type.Object({
  audience: Type.String(),
  name: Type.String(),
  scopes: Type.Array(Type.String()),
  allowed_clients: Type.Array(Type.String()),
  allow_anonymous: Type.Boolean(),
  min_acr: Type.Optional(Type.String()),
  authentication_modes: Type.Optional(Type.Array(Type.String())),
  access_token_ttl: Type.Optional(Type.Integer()),
  /** Whether the resource has a secret to call `/introspect` with: the secret itself is never shown. */
  has_secret: Type.Boolean(),
  created_at: Timestamp,
})

export function resourceView(resource: Resource): Static<typeof ResourceView> {
  const { policy } = resource
  return {
    audience: resource.audience,
    name: resource.name,
    scopes: resource.scopes,
    allowed_clients: policy.allowedClients,
    allow_anonymous: policy.allowAnonymous,
    ...(policy.minAcr !== undefined && { min_acr: policy.minAcr }),
    ...(policy.authenticationModes !== undefined && { authentication_modes: policy.authenticationModes }),
    ...(resource.accessTokenTtl !== undefined && { access_token_ttl: resource.accessTokenTtl }),
    has_secret: resource.secretHash !== undefined,
    created_at: resource.createdAt,
  }
}

/** A passkey, for its administrator and for its owner: never the public key. */
export const PasskeyView = Type.Object({
  credential_id: Type.String(),
  user_handle: Type.String(),
  name: Type.Optional(Type.String()),
  aaguid: Type.Optional(Type.String()),
  device_type: Type.Optional(Type.String()),
  transports: Type.Array(Type.String()),
  created_at: Timestamp,
  last_used_at: Type.Optional(Timestamp),
})

export function passkeyView(passkey: PasskeyCredential): Static<typeof PasskeyView> {
  return {
    credential_id: passkey.credentialId,
    user_handle: passkey.userHandle,
    ...(passkey.name !== undefined && { name: passkey.name }),
    ...(passkey.aaguid !== undefined && { aaguid: passkey.aaguid }),
    ...(passkey.deviceType !== undefined && { device_type: passkey.deviceType }),
    transports: passkey.transports,
    created_at: passkey.createdAt,
    ...(passkey.lastUsedAt !== undefined && { last_used_at: passkey.lastUsedAt }),
  }
}

/** `PATCH` of a passkey: its new name; `null` (or a blank one) unnames it. */
export const PasskeyPatch = Type.Object(
  { name: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]) },
  { additionalProperties: false },
)

export const AccountView = Type.Object({
  profile_id: Type.String(),
  kind: Type.String(),
  created_at: Timestamp,
  last_active_at: Timestamp,
  attached_at: Type.Optional(Timestamp),
  /** How the person signs in: `local` (email), `passkey` (user handle) or `oidc:{name}`. */
  identities: Type.Array(
    Type.Object({ provider: Type.String(), subject: Type.String(), created_at: Timestamp }),
  ),
  passkeys: Type.Array(PasskeyView),
})

export function accountView({ profile, identities, passkeys }: Account): Static<typeof AccountView> {
  return {
    profile_id: profile.id,
    kind: profile.kind,
    created_at: profile.createdAt,
    last_active_at: profile.lastActiveAt,
    ...(profile.attachedAt !== undefined && { attached_at: profile.attachedAt }),
    identities: identities.map((i) => ({
      provider: i.provider,
      subject: i.subject,
      created_at: i.createdAt,
    })),
    passkeys: passkeys.map(passkeyView),
  }
}

export const DeviceView = Type.Object({
  device_id: Type.String(),
  profile_id: Type.String(),
  client_id: Type.String(),
  jkt: Type.String(),
  authentication_mode: Type.String(),
  hardware_key: Type.Boolean(),
  created_at: Timestamp,
  last_seen_at: Timestamp,
  revoked_at: Type.Optional(Timestamp),
})

export function deviceView(device: Device): Static<typeof DeviceView> {
  return {
    device_id: device.id,
    profile_id: device.profileId,
    client_id: device.clientId,
    jkt: device.jkt,
    authentication_mode: device.authenticationMode,
    hardware_key: device.hardwareKey,
    created_at: device.createdAt,
    last_seen_at: device.lastSeenAt,
    ...(device.revokedAt !== undefined && { revoked_at: device.revokedAt }),
  }
}

export const DevicePageView = Type.Object({
  devices: Type.Array(DeviceView),
  /** The `after` of the next page; absent on the last page. */
  next: Type.Optional(Type.String()),
})

export function devicePageView(page: {
  devices: Device[]
  next: string | undefined
}): Static<typeof DevicePageView> {
  return { devices: page.devices.map(deviceView), ...(page.next !== undefined && { next: page.next }) }
}

/** Public facts about a signing key; its key material is served by the tenant's `/jwks`. */
export const SigningKeyView = Type.Object({
  kid: Type.String(),
  alg: Type.String(),
  status: Type.Union([Type.Literal('active'), Type.Literal('retired')]),
  created_at: Timestamp,
  retired_at: Type.Optional(Timestamp),
  publish_until: Type.Optional(Timestamp),
})

export function signingKeyView(key: SigningKeyRecord): Static<typeof SigningKeyView> {
  return {
    kid: key.kid,
    alg: key.alg,
    status: key.status,
    created_at: key.createdAt,
    ...(key.retiredAt !== undefined && { retired_at: key.retiredAt }),
    ...(key.publishUntil !== undefined && { publish_until: key.publishUntil }),
  }
}

function lockoutView({ failures, windowSeconds, lockSeconds }: LoginLockout) {
  return { failures, window_seconds: windowSeconds, lock_seconds: lockSeconds }
}

function quotaView({ maxValueBytes, maxCount, maxTotalBytes }: AttributeQuota) {
  return { max_value_bytes: maxValueBytes, max_count: maxCount, max_total_bytes: maxTotalBytes }
}
