import { attributeLimitsOf } from '../../domain/profile-manager.ts'
import { defined } from '../../http/admin/defined.ts'
import { tenantView } from '../../http/admin/views.ts'
import {
  type AttributeQuota,
  type LoginLockout,
  loginLockoutOf,
  MergePolicies,
  type MergePolicy,
  SigningAlgorithms,
  signingAlgorithmOf,
  type Tenant,
  type TenantSettings,
} from '../../store/tenant-store.ts'
import { type CommandContext, type CommandGroup, type OptionSpec, UsageError } from '../command.ts'
import { details, table, time } from '../output.ts'

const settingsOptions: Readonly<Record<string, OptionSpec>> = {
  name: { type: 'string', value: 'NAME', description: 'display name (default: the id)' },
  'access-token-ttl': {
    type: 'string',
    value: 'SECONDS',
    description: 'access token lifetime (default 300)',
  },
  'refresh-token-idle-ttl': {
    type: 'string',
    value: 'SECONDS',
    description: 'refresh tokens unused this long expire (default 30 days)',
  },
  'refresh-token-absolute-ttl': {
    type: 'string',
    value: 'SECONDS',
    description: 'no refresh token outlives this (default 365 days)',
  },
  'dpop-nonce': { type: 'boolean', description: 'require DPoP server nonces at the token endpoint' },
  'offer-passkeys': {
    type: 'boolean',
    description: 'after a password or upstream sign-in, offer accounts without a passkey to add one',
  },
  'anonymous-inactivity-days': {
    type: 'string',
    value: 'DAYS',
    description: 'delete anonymous profiles unused this long (default 30)',
  },
  'merge-policy': {
    type: 'string',
    value: MergePolicies.join('|'),
    description: 'anonymous attributes when the identity already has a profile (default none)',
  },
  'signing-alg': {
    type: 'string',
    value: SigningAlgorithms.join('|'),
    description: "the tokens' signature algorithm (default ES256); a change rotates the key at once",
  },
  'attribute-quota': {
    type: 'string',
    value: 'VALUE_BYTES,COUNT,TOTAL_BYTES',
    description:
      "a profile's attributes: bytes of one value, how many, bytes in all (default 16384,100,262144)",
  },
  'login-lockout': {
    type: 'string',
    value: 'FAILURES,WINDOW,LOCK',
    description:
      'lock an account after FAILURES wrong passwords within WINDOW seconds, for LOCK seconds (default 5,900,900)',
  },
}

export const tenantCommands: CommandGroup = {
  summary: 'isolated realms with their own clients, resources, devices and keys',
  commands: {
    list: {
      summary: 'list the tenants',
      async run(context) {
        const tenants = await (await context.services()).tenants.list()
        context.out.result({ tenants: tenants.map(tenantView) }, () =>
          tenants.length === 0
            ? 'No tenants.'
            : table(tenants, [
                { header: 'ID', value: (t) => t.id },
                { header: 'NAME', value: (t) => t.name },
                { header: 'ACCESS_TOKEN_TTL', value: (t) => String(t.settings.accessTokenTtl) },
                { header: 'DPOP_NONCE', value: (t) => String(t.settings.dpopNonce) },
                { header: 'CREATED', value: (t) => time(t.createdAt) },
              ]),
        )
      },
    },
    show: {
      summary: 'show a tenant and its settings',
      arguments: ['<id>'],
      async run(context) {
        const tenant = await (await context.services()).tenants.get(context.argument(0))
        context.out.result(tenantView(tenant), () => describeTenant(tenant))
      },
    },
    create: {
      summary: 'create a tenant with its first signing key',
      arguments: ['<id>'],
      options: settingsOptions,
      async run(context) {
        const input = {
          id: context.argument(0),
          settings: settingsFrom(context),
          ...defined({ name: context.option('name') }),
        }
        const tenant = await (await context.services()).tenants.create(input)
        context.out.result(
          tenantView(tenant),
          () => `Created tenant "${tenant.id}".\n${describeTenant(tenant)}`,
        )
      },
    },
    update: {
      summary: "change a tenant's name or settings; what is not given stays as it is",
      arguments: ['<id>'],
      options: {
        ...settingsOptions,
        name: { type: 'string', value: 'NAME', description: 'display name' },
        'no-dpop-nonce': { type: 'boolean', description: 'stop requiring DPoP server nonces' },
        'no-offer-passkeys': { type: 'boolean', description: 'stop offering passkeys after sign-in' },
      },
      async run(context) {
        for (const name of ['dpop-nonce', 'offer-passkeys'])
          if (context.flag(name) && context.flag(`no-${name}`))
            throw new UsageError(`give --${name} or --no-${name}, not both`)
        const settings = {
          ...settingsFrom(context),
          ...(context.flag('no-dpop-nonce') && { dpopNonce: false }),
          ...(context.flag('no-offer-passkeys') && { offerPasskeys: false }),
        }
        const tenant = await (await context.services()).tenants.update(
          context.argument(0),
          defined({ name: context.option('name'), settings }),
        )
        context.out.result(
          tenantView(tenant),
          () => `Updated tenant "${tenant.id}".\n${describeTenant(tenant)}`,
        )
      },
    },
    delete: {
      summary: 'delete a tenant and everything in it',
      arguments: ['<id>'],
      async run(context: CommandContext) {
        const id = context.argument(0)
        await (await context.services()).tenants.delete(id)
        context.out.result({ id, deleted: true }, () => `Deleted tenant "${id}" and everything in it.`)
      },
    },
  },
}

function settingsFrom(context: CommandContext): Partial<TenantSettings> {
  const mergePolicy = context.option('merge-policy')
  if (mergePolicy !== undefined && !isMergePolicy(mergePolicy))
    throw new UsageError(`--merge-policy must be one of ${MergePolicies.join(', ')}`)
  const signingAlg = context.option('signing-alg')
  if (signingAlg !== undefined && !(SigningAlgorithms as readonly string[]).includes(signingAlg))
    throw new UsageError(`--signing-alg must be one of ${SigningAlgorithms.join(', ')}`)
  return defined({
    loginLockout: numbersFrom(
      context.option('login-lockout'),
      '--login-lockout',
      'FAILURES,WINDOW,LOCK',
      ([failures, windowSeconds, lockSeconds]) => ({ failures, windowSeconds, lockSeconds }),
    ),
    attributeQuota: numbersFrom(
      context.option('attribute-quota'),
      '--attribute-quota',
      'VALUE_BYTES,COUNT,TOTAL_BYTES',
      ([maxValueBytes, maxCount, maxTotalBytes]) => ({ maxValueBytes, maxCount, maxTotalBytes }),
    ),
    accessTokenTtl: context.count('access-token-ttl'),
    refreshTokenIdleTtl: context.count('refresh-token-idle-ttl'),
    refreshTokenAbsoluteTtl: context.count('refresh-token-absolute-ttl'),
    dpopNonce: context.flag('dpop-nonce') || undefined,
    offerPasskeys: context.flag('offer-passkeys') || undefined,
    anonymousInactivityDays: context.count('anonymous-inactivity-days'),
    mergePolicy,
    signingAlg: signingAlg as TenantSettings['signingAlg'],
  })
}

/** Three whole numbers separated by commas, as `shape` names them. */
function numbersFrom<T>(
  value: string | undefined,
  option: string,
  shape: string,
  make: (numbers: [number, number, number]) => T,
): T | undefined {
  if (value === undefined) return undefined
  const parts = value.split(',').map((part) => (/^\d+$/.test(part.trim()) ? Number(part) : Number.NaN))
  if (parts.length !== 3 || parts.some(Number.isNaN))
    throw new UsageError(`${option} takes three whole numbers: ${shape}`)
  return make(parts as [number, number, number])
}

function isMergePolicy(value: string): value is MergePolicy {
  return (MergePolicies as readonly string[]).includes(value)
}

function describeTenant(tenant: Tenant): string {
  const { settings } = tenant
  return details({
    id: tenant.id,
    name: tenant.name,
    'access token ttl': `${settings.accessTokenTtl} s`,
    'refresh token idle ttl': `${settings.refreshTokenIdleTtl} s`,
    'refresh token absolute ttl': `${settings.refreshTokenAbsoluteTtl} s`,
    'dpop nonce': String(settings.dpopNonce),
    'offer passkeys': String(settings.offerPasskeys === true),
    'anonymous inactivity': `${settings.anonymousInactivityDays} days`,
    'merge policy': settings.mergePolicy,
    'signing algorithm': signingAlgorithmOf(settings),
    'login lockout': describeLockout(loginLockoutOf(settings)),
    'attribute quota': describeQuota(attributeLimitsOf(settings)),
    created: time(tenant.createdAt),
  })
}

function describeLockout({ failures, windowSeconds, lockSeconds }: LoginLockout): string {
  return `${failures} failures within ${windowSeconds} s lock an account for ${lockSeconds} s`
}

function describeQuota({ maxValueBytes, maxCount, maxTotalBytes }: AttributeQuota): string {
  return `${maxCount} attributes of up to ${maxValueBytes} bytes each, ${maxTotalBytes} bytes in all`
}
