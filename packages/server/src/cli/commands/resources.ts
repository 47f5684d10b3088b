import { isAuthenticationMode } from '@onramp/protocol'
import type { ResourceInput } from '../../domain/resource-manager.ts'
import { defined } from '../../http/admin/defined.ts'
import { resourceView } from '../../http/admin/views.ts'
import type { Resource } from '../../store/resource-store.ts'
import { type CommandGroup, tenantOption, tenantServices, UsageError } from '../command.ts'
import { details, list, table, time } from '../output.ts'

const audienceOption = {
  type: 'string',
  value: 'AUDIENCE',
  description: 'the resource identifier tokens are issued for',
  required: true,
} as const

export const resourceCommands: CommandGroup = {
  summary: 'backends that accept exchanged tokens, and who may get one',
  commands: {
    list: {
      summary: "list a tenant's resources",
      options: { tenant: tenantOption },
      async run(context) {
        const { services, tenant } = await tenantServices(context)
        const resources = await services.resources.list(tenant)
        context.out.result({ resources: resources.map(resourceView) }, () =>
          resources.length === 0
            ? `No resources in tenant "${tenant}".`
            : table(resources, [
                { header: 'AUDIENCE', value: (r) => r.audience },
                { header: 'NAME', value: (r) => r.name },
                { header: 'SCOPES', value: (r) => list(r.scopes) },
                { header: 'ALLOWED_CLIENTS', value: (r) => list(r.policy.allowedClients) },
                { header: 'ANONYMOUS', value: (r) => String(r.policy.allowAnonymous) },
                {
                  header: 'TTL',
                  value: (r) => (r.accessTokenTtl === undefined ? '-' : String(r.accessTokenTtl)),
                },
              ]),
        )
      },
    },
    show: {
      summary: 'show one resource and its exchange policy',
      options: { tenant: tenantOption, audience: audienceOption },
      async run(context) {
        const resource = await (await context.services()).resources.get(
          context.required('tenant'),
          context.required('audience'),
        )
        context.out.result(resourceView(resource), () => describeResource(resource))
      },
    },
    create: {
      summary: 'register a resource',
      options: {
        tenant: tenantOption,
        audience: audienceOption,
        name: { type: 'string', value: 'NAME', description: 'display name (default: the audience)' },
        scopes: { type: 'string', value: 'A,B', description: 'scopes the resource defines' },
        'allowed-clients': {
          type: 'string',
          value: 'A,B',
          description: 'clients that may exchange tokens for this audience (default none)',
        },
        'allow-anonymous': { type: 'boolean', description: 'accept anonymous subjects' },
        'min-acr': {
          type: 'string',
          value: 'LEVEL',
          description: 'lowest acr accepted ("0" anonymous, "1" signed in)',
        },
        'authentication-modes': {
          type: 'string',
          value: 'A,B',
          description: 'device authentication modes accepted: no, password, biometric (default all)',
        },
        'access-token-ttl': {
          type: 'string',
          value: 'SECONDS',
          description: "lifetime of this audience's tokens (default: the tenant's)",
        },
      },
      async run(context) {
        const modes = context.list('authentication-modes')
        const unknown = modes?.find((mode) => !isAuthenticationMode(mode))
        if (unknown !== undefined)
          throw new UsageError(`--authentication-modes: "${unknown}" is not one of no, password, biometric`)
        const input: ResourceInput = {
          audience: context.required('audience'),
          policy: defined({
            allowedClients: context.list('allowed-clients'),
            allowAnonymous: context.flag('allow-anonymous'),
            minAcr: context.option('min-acr'),
            authenticationModes: modes?.filter(isAuthenticationMode),
          }),
          ...defined({
            name: context.option('name'),
            scopes: context.list('scopes'),
            accessTokenTtl: context.count('access-token-ttl'),
          }),
        }
        const resource = await (await context.services()).resources.create(context.required('tenant'), input)
        context.out.result(
          resourceView(resource),
          () => `Created resource "${resource.audience}".\n${describeResource(resource)}`,
        )
      },
    },
    'rotate-secret': {
      summary: 'give a resource a new secret to call /introspect with; the old one stops working at once',
      options: { tenant: tenantOption, audience: audienceOption },
      async run(context) {
        const audience = context.required('audience')
        const secret = await (await context.services()).resources.rotateSecret(
          context.required('tenant'),
          audience,
        )
        context.out.result(
          { audience, secret },
          () => `New secret of resource "${audience}" (shown only now): ${secret}`,
        )
      },
    },
    'remove-secret': {
      summary: "take a resource's secret away: it can no longer call /introspect",
      options: { tenant: tenantOption, audience: audienceOption },
      async run(context) {
        const audience = context.required('audience')
        await (await context.services()).resources.removeSecret(context.required('tenant'), audience)
        context.out.result({ audience, has_secret: false }, () => `Resource "${audience}" has no secret now.`)
      },
    },
    delete: {
      summary: 'delete a resource',
      options: { tenant: tenantOption, audience: audienceOption },
      async run(context) {
        const audience = context.required('audience')
        await (await context.services()).resources.delete(context.required('tenant'), audience)
        context.out.result({ audience, deleted: true }, () => `Deleted resource "${audience}".`)
      },
    },
  },
}

function describeResource(resource: Resource): string {
  const { policy } = resource
  return details({
    audience: resource.audience,
    name: resource.name,
    scopes: list(resource.scopes),
    'allowed clients': list(policy.allowedClients),
    'allow anonymous': String(policy.allowAnonymous),
    'min acr': policy.minAcr,
    'authentication modes': policy.authenticationModes && list(policy.authenticationModes),
    'access token ttl': resource.accessTokenTtl === undefined ? "tenant's" : `${resource.accessTokenTtl} s`,
    'introspection secret': resource.secretHash === undefined ? 'none' : 'set',
    created: time(resource.createdAt),
  })
}
