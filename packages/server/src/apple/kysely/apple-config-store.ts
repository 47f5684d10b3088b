import type { Selectable } from 'kysely'
import { type Executor, optional } from '../../store/kysely/executor.ts'
import type { AppleCertificates, AppleConfig, AppleConfigStore } from '../apple-config-store.ts'
import type { AppleSettings } from '../apple-settings.ts'
import type { AppleConfigsTable } from '../tables/apple-configs.ts'

export class KyselyAppleConfigStore implements AppleConfigStore {
  readonly #db: Executor
  constructor(db: Executor) {
    this.#db = db
  }

  async get(tenantId: string): Promise<AppleConfig | undefined> {
    const row = await this.#db
      .selectFrom('apple_configs')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .executeTakeFirst()
    if (!row) return undefined
    const domains = await this.#db
      .selectFrom('apple_managed_domains')
      .select('domain')
      .where('tenant_id', '=', tenantId)
      .orderBy('domain')
      .execute()
    return toConfig(
      row,
      domains.map((d) => d.domain),
    )
  }

  async listCertificates(): Promise<AppleCertificates[]> {
    const rows = await this.#db
      .selectFrom('apple_configs')
      .select(['tenant_id', 'ca_certificate', 'push_certificate', 'profile_signing_chain'])
      .orderBy('tenant_id')
      .execute()
    return rows.map((row) => ({
      tenantId: row.tenant_id,
      deviceCA: optional(row.ca_certificate),
      push: optional(row.push_certificate),
      profileSigningChain: optional(row.profile_signing_chain),
    }))
  }

  async tenantForDomain(domain: string): Promise<string | undefined> {
    const row = await this.#db
      .selectFrom('apple_managed_domains')
      .select('tenant_id')
      .where('domain', '=', domain)
      .executeTakeFirst()
    return row?.tenant_id
  }

  async domainsOfOtherTenants(tenantId: string, domains: readonly string[]): Promise<string[]> {
    if (domains.length === 0) return []
    const rows = await this.#db
      .selectFrom('apple_managed_domains')
      .select('domain')
      .where('domain', 'in', domains)
      .where('tenant_id', '!=', tenantId)
      .orderBy('domain')
      .execute()
    return rows.map((r) => r.domain)
  }

  async put(config: AppleConfig): Promise<void> {
    const { managedDomains, ...settings } = config.settings
    const values = {
      settings: JSON.stringify(settings),
      ca_key_type: config.ca?.keyType ?? null,
      ca_certificate: config.ca?.certificatePEM ?? null,
      ca_private_key: config.ca?.sealedPrivateKey ?? null,
      push_certificate: config.push?.certificatePEM ?? null,
      push_private_key: config.push?.sealedPrivateKey ?? null,
      push_environment: config.push?.environment ?? null,
      profile_signing_chain: config.profileSigning?.chainPEM ?? null,
      profile_signing_private_key: config.profileSigning?.sealedPrivateKey ?? null,
      updated_at: config.updatedAt,
    }
    await this.#db
      .insertInto('apple_configs')
      .values({ tenant_id: config.tenantId, created_at: config.createdAt, ...values })
      .onConflict((conflict) => conflict.column('tenant_id').doUpdateSet(values))
      .execute()
    await this.#db.deleteFrom('apple_managed_domains').where('tenant_id', '=', config.tenantId).execute()
    await this.#db
      .insertInto('apple_managed_domains')
      .values(managedDomains.map((domain) => ({ domain, tenant_id: config.tenantId })))
      .execute()
  }
}

function toConfig(row: Selectable<AppleConfigsTable>, managedDomains: string[]): AppleConfig {
  const settings = JSON.parse(row.settings) as Omit<AppleSettings, 'managedDomains'>
  return {
    tenantId: row.tenant_id,
    // JSON leaves out undefined: each optional setting is named again.
    settings: {
      managedDomains,
      enrollmentTypes: settings.enrollmentTypes,
      authenticationMethod: settings.authenticationMethod,
      clientId: settings.clientId,
      topic: settings.topic,
      organization: settings.organization,
      accessRights: settings.accessRights,
      enrollmentSSO: settings.enrollmentSSO,
      enrollmentSSODeveloper: settings.enrollmentSSODeveloper,
      identity: settings.identity,
      deviceTrustAnchors: settings.deviceTrustAnchors,
    },
    ca:
      row.ca_key_type && row.ca_certificate && row.ca_private_key
        ? {
            keyType: row.ca_key_type,
            certificatePEM: row.ca_certificate,
            sealedPrivateKey: row.ca_private_key,
          }
        : undefined,
    push:
      row.push_certificate && row.push_private_key && row.push_environment
        ? {
            environment: row.push_environment,
            certificatePEM: row.push_certificate,
            sealedPrivateKey: row.push_private_key,
          }
        : undefined,
    profileSigning:
      row.profile_signing_chain && row.profile_signing_private_key
        ? { chainPEM: row.profile_signing_chain, sealedPrivateKey: row.profile_signing_private_key }
        : undefined,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  }
}
