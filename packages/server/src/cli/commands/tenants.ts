import { defined } from '../../http/admin/defined.ts'
import { tenantView } from '../../http/admin/views.ts'
import type { Tenant, TenantSettings } from '../../store/tenant-store.ts'
import type { CommandContext, CommandGroup } from '../command.ts'
import { details, table, time } from '../output.ts'

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
      options: {
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
        'anonymous-inactivity-days': {
          type: 'string',
          value: 'DAYS',
          description: 'delete anonymous profiles unused this long (default 30)',
        },
      },
      async run(context) {
        const settings: Partial<TenantSettings> = defined({
          accessTokenTtl: context.count('access-token-ttl'),
          refreshTokenIdleTtl: context.count('refresh-token-idle-ttl'),
          refreshTokenAbsoluteTtl: context.count('refresh-token-absolute-ttl'),
          dpopNonce: context.flag('dpop-nonce') || undefined,
          anonymousInactivityDays: context.count('anonymous-inactivity-days'),
        })
        const input = { id: context.argument(0), settings, ...defined({ name: context.option('name') }) }
        const tenant = await (await context.services()).tenants.create(input)
        context.out.result(
          tenantView(tenant),
          () => `Created tenant "${tenant.id}".\n${describeTenant(tenant)}`,
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

function describeTenant(tenant: Tenant): string {
  const { settings } = tenant
  return details({
    id: tenant.id,
    name: tenant.name,
    'access token ttl': `${settings.accessTokenTtl} s`,
    'refresh token idle ttl': `${settings.refreshTokenIdleTtl} s`,
    'refresh token absolute ttl': `${settings.refreshTokenAbsoluteTtl} s`,
    'dpop nonce': String(settings.dpopNonce),
    'anonymous inactivity': `${settings.anonymousInactivityDays} days`,
    created: time(tenant.createdAt),
  })
}
