import { GrantType } from '@onramp/protocol'
import type { ClientInput } from '../../domain/client-manager.ts'
import { defined } from '../../http/admin/defined.ts'
import { clientView } from '../../http/admin/views.ts'
import type { Client } from '../../store/client-store.ts'
import { type CommandGroup, tenantOption, tenantServices, UsageError } from '../command.ts'
import { details, list, table, time } from '../output.ts'

/** Short names for `--grant-types`; full grant type URIs are accepted too. */
const grantTypeAliases: Readonly<Record<string, string>> = {
  anonymous: GrantType.anonymous,
  refresh_token: GrantType.refreshToken,
  token_exchange: GrantType.tokenExchange,
  authorization_code: GrantType.authorizationCode,
  client_credentials: GrantType.clientCredentials,
}

const clientIdOption = { type: 'string', value: 'ID', description: 'client id', required: true } as const

export const clientCommands: CommandGroup = {
  summary: 'the apps and backends that ask for tokens',
  commands: {
    list: {
      summary: "list a tenant's clients",
      options: { tenant: tenantOption },
      async run(context) {
        const { services, tenant } = await tenantServices(context)
        const clients = await services.clients.list(tenant)
        context.out.result({ clients: clients.map(clientView) }, () =>
          clients.length === 0
            ? `No clients in tenant "${tenant}".`
            : table(clients, [
                { header: 'CLIENT_ID', value: (c) => c.clientId },
                { header: 'TYPE', value: (c) => c.type },
                { header: 'NAME', value: (c) => c.name },
                { header: 'GRANT_TYPES', value: (c) => list(c.grantTypes.map(shortGrantType)) },
                { header: 'SCOPES', value: (c) => list(c.scopes) },
              ]),
        )
      },
    },
    show: {
      summary: 'show one client',
      options: { tenant: tenantOption, 'client-id': clientIdOption },
      async run(context) {
        const client = await (await context.services()).clients.get(
          context.required('tenant'),
          context.required('client-id'),
        )
        context.out.result(clientView(client), () => describeClient(client))
      },
    },
    create: {
      summary: "create a client; a confidential client's secret is printed once",
      options: {
        tenant: tenantOption,
        'client-id': clientIdOption,
        type: { type: 'string', value: 'public|confidential', description: 'client type', required: true },
        name: { type: 'string', value: 'NAME', description: 'display name (default: the client id)' },
        scopes: { type: 'string', value: 'A,B', description: 'scopes the client may request' },
        'grant-types': {
          type: 'string',
          value: 'A,B',
          description: `grant types: ${Object.keys(grantTypeAliases).join(', ')} or full URIs (default by type)`,
        },
        'redirect-uris': {
          type: 'string',
          value: 'A,B',
          description: 'redirect URIs for authorization_code',
        },
        'web-origins': {
          type: 'string',
          value: 'A,B',
          description: 'origins (https://app.example.com) whose pages may call the tenant (CORS)',
        },
      },
      async run(context) {
        const type = context.required('type')
        if (type !== 'public' && type !== 'confidential')
          throw new UsageError('--type must be public or confidential')
        const input: ClientInput = {
          clientId: context.required('client-id'),
          type,
          ...defined({
            name: context.option('name'),
            scopes: context.list('scopes'),
            grantTypes: context.list('grant-types')?.map((g) => grantTypeAliases[g] ?? g),
            redirectUris: context.list('redirect-uris'),
            webOrigins: context.list('web-origins'),
          }),
        }
        const services = await context.services()
        const { client, clientSecret } = await services.clients.create(context.required('tenant'), input)
        context.out.result(
          { ...clientView(client), ...(clientSecret !== undefined && { client_secret: clientSecret }) },
          () =>
            [
              `Created client "${client.clientId}".`,
              describeClient(client),
              ...(clientSecret === undefined ? [] : ['', `Client secret (shown only now): ${clientSecret}`]),
            ].join('\n'),
        )
      },
    },
    delete: {
      summary: 'delete a client',
      options: { tenant: tenantOption, 'client-id': clientIdOption },
      async run(context) {
        const clientId = context.required('client-id')
        await (await context.services()).clients.delete(context.required('tenant'), clientId)
        context.out.result({ client_id: clientId, deleted: true }, () => `Deleted client "${clientId}".`)
      },
    },
    'rotate-secret': {
      summary: "replace a confidential client's secret; the old one stops working at once",
      options: { tenant: tenantOption, 'client-id': clientIdOption },
      async run(context) {
        const clientId = context.required('client-id')
        const clientSecret = await (await context.services()).clients.rotateSecret(
          context.required('tenant'),
          clientId,
        )
        context.out.result(
          { client_id: clientId, client_secret: clientSecret },
          () => `New secret of client "${clientId}" (shown only now): ${clientSecret}`,
        )
      },
    },
  },
}

function shortGrantType(grantType: string): string {
  return Object.entries(grantTypeAliases).find(([, uri]) => uri === grantType)?.[0] ?? grantType
}

function describeClient(client: Client): string {
  const policy = client.appPolicy
  return details({
    'client id': client.clientId,
    name: client.name,
    type: client.type,
    'grant types': list(client.grantTypes.map(shortGrantType)),
    scopes: list(client.scopes),
    'redirect uris': list(client.redirectUris),
    'web origins': list(client.webOrigins),
    'app versions': policy && `min ${policy.minVersion ?? '-'}, latest ${policy.latestVersion ?? '-'}`,
    created: time(client.createdAt),
  })
}
