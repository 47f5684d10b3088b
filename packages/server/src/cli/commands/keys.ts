import { signingKeyView } from '../../http/admin/views.ts'
import type { SigningKeyRecord } from '../../store/signing-key-store.ts'
import { type CommandGroup, tenantOption, tenantServices } from '../command.ts'
import { table, time } from '../output.ts'

export const keyCommands: CommandGroup = {
  summary: "a tenant's token signing keys",
  commands: {
    list: {
      summary: 'list the published signing keys (the active one and those retired whose tokens may live)',
      options: { tenant: tenantOption },
      async run(context) {
        const { services, tenant } = await tenantServices(context)
        const keys = await services.keys.list(tenant)
        context.out.result({ keys: keys.map(signingKeyView) }, () => keyTable(keys))
      },
    },
    rotate: {
      summary: 'make a new signing key; the old one stays published until every token it signed has expired',
      options: { tenant: tenantOption },
      async run(context) {
        const services = await context.services()
        const tenant = context.required('tenant')
        const kid = await services.tenants.rotateSigningKey(tenant)
        const keys = await services.keys.list(tenant)
        context.out.result(
          { kid, keys: keys.map(signingKeyView) },
          () =>
            `New signing key ${kid}. Running servers switch to it within 30 seconds.\n\n${keyTable(keys)}`,
        )
      },
    },
  },
}

function keyTable(keys: readonly SigningKeyRecord[]): string {
  return table(keys, [
    { header: 'KID', value: (k) => k.kid },
    { header: 'ALG', value: (k) => k.alg },
    { header: 'STATUS', value: (k) => k.status },
    { header: 'CREATED', value: (k) => time(k.createdAt) },
    { header: 'RETIRED', value: (k) => time(k.retiredAt) },
    { header: 'PUBLISHED_UNTIL', value: (k) => time(k.publishUntil) },
  ])
}
