import {
  addFootprints,
  noFootprint,
  profileBatchSize,
  sweepInactiveProfiles,
  type TenantProfileSweep,
} from '../../domain/maintenance.ts'
import type { ProfileFootprint } from '../../store/profile-retention-store.ts'
import { type Command, UsageError } from '../command.ts'
import { table, time } from '../output.ts'
import { Progress } from '../progress.ts'

export const gcCommand: Command = {
  summary:
    'delete anonymous profiles inactive past their tenant’s limit, with their devices, tokens and attributes',
  options: {
    tenant: { type: 'string', value: 'TENANT', description: 'only this tenant (default: every tenant)' },
    'dry-run': { type: 'boolean', description: 'count what would be deleted, and delete nothing' },
    'batch-size': {
      type: 'string',
      value: 'N',
      description: `profiles per transaction, at most ${profileBatchSize.max} (default ${profileBatchSize.default})`,
    },
  },
  async run(context) {
    const tenantId = context.option('tenant')
    const batchSize = context.count('batch-size')
    if (batchSize !== undefined && batchSize > profileBatchSize.max)
      throw new UsageError(`--batch-size must be at most ${profileBatchSize.max}`)
    const dryRun = context.flag('dry-run')
    const services = await context.services()
    const progress = new Progress(process.stderr)
    let swept: TenantProfileSweep[]
    try {
      swept = await sweepInactiveProfiles(services.store, services.clock, {
        ...(tenantId !== undefined && { tenantId }),
        ...(batchSize !== undefined && { batchSize }),
        dryRun,
        onProgress: ({ tenantId, done, total }) => {
          if (total > 0) progress.update(`tenant ${tenantId}`, done, total, 'profiles deleted')
        },
      })
    } finally {
      progress.end()
    }
    const total = swept.reduce((sum, tenant) => addFootprints(sum, tenant.deleted), noFootprint)
    context.out.result(
      {
        dry_run: dryRun,
        tenants: swept.map((tenant) => ({
          tenant_id: tenant.tenantId,
          inactive_before: tenant.inactiveBefore,
          ...footprintView(tenant.deleted),
        })),
        total: footprintView(total),
      },
      () => {
        const summary = dryRun
          ? `Dry run: ${describe(total)} would be deleted. Nothing was deleted.`
          : `Deleted ${describe(total)}.`
        if (swept.length === 0) return `${summary}\nNo tenants.`
        const rows = table(swept, [
          { header: 'TENANT', value: (t) => t.tenantId },
          { header: 'INACTIVE_BEFORE', value: (t) => time(t.inactiveBefore) },
          { header: 'PROFILES', value: (t) => String(t.deleted.profiles) },
          { header: 'DEVICES', value: (t) => String(t.deleted.devices) },
          { header: 'GRANTS', value: (t) => String(t.deleted.grants) },
          { header: 'REFRESH_TOKENS', value: (t) => String(t.deleted.refreshTokens) },
          { header: 'ATTRIBUTES', value: (t) => String(t.deleted.attributes) },
        ])
        return `${summary}\n\n${rows}`
      },
    )
  },
}

function footprintView(footprint: ProfileFootprint): Record<string, number> {
  return {
    profiles: footprint.profiles,
    devices: footprint.devices,
    grants: footprint.grants,
    refresh_tokens: footprint.refreshTokens,
    attributes: footprint.attributes,
  }
}

function describe(footprint: ProfileFootprint): string {
  const count = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`
  return (
    `${count(footprint.profiles, 'inactive anonymous profile')} with ` +
    `${count(footprint.devices, 'device')}, ${count(footprint.grants, 'grant')}, ` +
    `${count(footprint.refreshTokens, 'refresh token')} and ${count(footprint.attributes, 'attribute')}`
  )
}
