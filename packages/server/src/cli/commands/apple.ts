import { readFileSync } from 'node:fs'
import type { AppleConfig } from '../../apple/apple-config-store.ts'
import type {
  AppleAuthenticationMethod,
  AppleSettingsInput,
  EnrollmentSSODocument,
  FamilyEnrollment,
  IdentityIssuance,
  ModelFamily,
} from '../../apple/apple-settings.ts'
import { appleConfigView } from '../../apple/http/views.ts'
import { toPlistDict } from '../../apple/plist-values.ts'
import { type ApnsEnvironment, ApnsEnvironments } from '../../apple/push-notifier.ts'
import type { Services } from '../../domain/services.ts'
import {
  type CommandContext,
  type CommandGroup,
  tenantOption,
  tenantServices,
  UsageError,
} from '../command.ts'
import { details, list, time } from '../output.ts'

/** A file option that can also be `none`, to remove what it configured. */
const fileOrNone = (description: string) => ({ type: 'string', value: 'FILE|none', description }) as const

export const appleCommands: CommandGroup = {
  summary: "a tenant's Apple account-driven enrollment",
  commands: {
    show: {
      summary: "show the tenant's Apple enrollment configuration and endpoints",
      options: { tenant: tenantOption },
      async run(context) {
        const { services, tenant } = await tenantServices(context)
        print(context, services, await services.apple.configs.get(tenant))
      },
    },
    configure: {
      summary: 'configure Apple enrollment; options left out keep their current value (or default)',
      options: {
        tenant: tenantOption,
        domains: { type: 'string', value: 'D1,D2', description: 'managed domains (required the first time)' },
        topic: {
          type: 'string',
          value: 'TOPIC',
          description: 'APNs topic, com.apple.mgmt.… (required the first time)',
        },
        method: { type: 'string', value: 'METHOD', description: 'apple-as-web (default) or apple-oauth2' },
        'client-id': {
          type: 'string',
          value: 'ID',
          description: 'the Apple devices client (default apple-enrollment)',
        },
        organization: { type: 'string', value: 'NAME', description: 'organization shown in the profile' },
        'enrollment-types': {
          type: 'string',
          value: 'F=T,…',
          description: 'per model family: mdm-byod, mdm-adde or none (e.g. iPhone=mdm-byod,Mac=mdm-adde)',
        },
        'access-rights': {
          type: 'string',
          value: 'N',
          description: 'AccessRights of device enrollments (default 8191)',
        },
        identity: {
          type: 'string',
          value: 'TYPE',
          description: 'pkcs12 (the tenant CA, default), scep or acme',
        },
        'key-type': {
          type: 'string',
          value: 'TYPE',
          description: 'key type of the tenant CA: rsa (default) or ec',
        },
        'identity-payload': {
          type: 'string',
          value: 'FILE',
          description: 'JSON: the SCEP PayloadContent, or the ACME payload keys',
        },
        'enrollment-sso': fileOrNone('JSON Enrollment SSO document (X-Apple-MDM-ESSO)'),
        'enrollment-sso-developer': fileOrNone('JSON developer-mode document (X-Apple-MDM-ESSO-Developer)'),
        'trust-anchors': fileOrNone('PEM roots the device signature must chain to (Apple’s root)'),
      },
      async run(context) {
        const { services, tenant } = await tenantServices(context)
        const current = await services.apple.configs.find(tenant)
        const config = await services.apple.configs.configure(tenant, settingsFrom(context, current))
        print(context, services, config)
      },
    },
    'push-certificate': {
      summary: "set the tenant's MDM push certificate for APNs (or --remove it)",
      options: {
        tenant: tenantOption,
        certificate: { type: 'string', value: 'FILE', description: 'the push certificate (PEM)' },
        key: { type: 'string', value: 'FILE', description: 'its private key (unencrypted PEM)' },
        environment: { type: 'string', value: 'ENV', description: 'production (default) or sandbox' },
        remove: { type: 'boolean', description: 'remove the push certificate' },
      },
      async run(context) {
        const { services, tenant } = await tenantServices(context)
        if (context.flag('remove')) {
          print(context, services, await services.apple.configs.removePushCertificate(tenant))
          return
        }
        const environment = context.option('environment') ?? 'production'
        if (!(ApnsEnvironments as readonly string[]).includes(environment))
          throw new UsageError('--environment must be production or sandbox')
        const config = await services.apple.configs.setPushCertificate(tenant, {
          certificatePEM: readText(context.required('certificate')),
          privateKeyPEM: readText(context.required('key')),
          environment: environment as ApnsEnvironment,
        })
        print(context, services, config)
      },
    },
    'rotate-device-ca': {
      summary: "replace the tenant's device CA: new profiles and renewals get identities from the new one",
      options: { tenant: tenantOption },
      async run(context) {
        const { services, tenant } = await tenantServices(context)
        print(context, services, await services.apple.configs.rotateDeviceCA(tenant))
      },
    },
    'profile-signing-certificate': {
      summary: "set the certificate the tenant's enrollment profiles are signed with (or --remove it)",
      options: {
        tenant: tenantOption,
        certificate: {
          type: 'string',
          value: 'FILE',
          description: 'the signing certificate, then its intermediates (PEM)',
        },
        key: { type: 'string', value: 'FILE', description: 'its private key (unencrypted PEM)' },
        remove: { type: 'boolean', description: 'remove it: profiles are then unsigned' },
      },
      async run(context) {
        const { services, tenant } = await tenantServices(context)
        const config = context.flag('remove')
          ? await services.apple.configs.removeProfileSigningCertificate(tenant)
          : await services.apple.configs.setProfileSigningCertificate(tenant, {
              certificatePEM: readText(context.required('certificate')),
              privateKeyPEM: readText(context.required('key')),
            })
        print(context, services, config)
      },
    },
  },
}

/** The current settings (if any) with the command line's options on top. */
function settingsFrom(context: CommandContext, current: AppleConfig | undefined): AppleSettingsInput {
  const managedDomains = context.list('domains') ?? current?.settings.managedDomains
  const topic = context.option('topic') ?? current?.settings.topic
  if (!managedDomains || !topic) throw new UsageError('--domains and --topic are required the first time')
  const settings: AppleSettingsInput = { ...current?.settings, managedDomains, topic }
  const method = context.option('method')
  if (method !== undefined) settings.authenticationMethod = method as AppleAuthenticationMethod
  const clientId = context.option('client-id')
  if (clientId !== undefined) settings.clientId = clientId
  const organization = context.option('organization')
  if (organization !== undefined) settings.organization = organization
  const types = context.list('enrollment-types')
  if (types !== undefined)
    settings.enrollmentTypes = { ...current?.settings.enrollmentTypes, ...enrollmentTypes(types) }
  const accessRights = context.count('access-rights')
  if (accessRights !== undefined) settings.accessRights = accessRights
  const identity = identityFrom(context, current)
  if (identity) settings.identity = identity
  const sso = ssoDocument(context, 'enrollment-sso')
  if (sso !== undefined) settings.enrollmentSSO = sso ?? undefined
  const developer = ssoDocument(context, 'enrollment-sso-developer')
  if (developer !== undefined) settings.enrollmentSSODeveloper = developer ?? undefined
  const anchors = context.option('trust-anchors')
  if (anchors !== undefined)
    settings.deviceTrustAnchors =
      anchors === 'none'
        ? []
        : (readText(anchors).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [])
  return settings
}

function enrollmentTypes(pairs: readonly string[]): Partial<Record<ModelFamily, FamilyEnrollment>> {
  return Object.fromEntries(
    pairs.map((pair) => {
      const [family, type, ...rest] = pair.split('=')
      if (!family || !type || rest.length > 0)
        throw new UsageError(`--enrollment-types takes FAMILY=TYPE pairs, not "${pair}"`)
      return [family, type]
    }),
  )
}

function identityFrom(
  context: CommandContext,
  current: AppleConfig | undefined,
): IdentityIssuance | undefined {
  const type = context.option('identity')
  const keyType = context.option('key-type')
  const payloadFile = context.option('identity-payload')
  if (type === undefined && keyType === undefined && payloadFile === undefined) return undefined
  const chosen = type ?? current?.settings.identity.type ?? 'pkcs12'
  if (chosen === 'pkcs12') {
    const currentKeyType =
      current?.settings.identity.type === 'pkcs12' ? current.settings.identity.keyType : 'rsa'
    return { type: 'pkcs12', keyType: (keyType ?? currentKeyType) as 'ec' | 'rsa' }
  }
  if (chosen !== 'scep' && chosen !== 'acme') throw new UsageError('--identity must be pkcs12, scep or acme')
  const currentPayload =
    current?.settings.identity.type === chosen ? current.settings.identity.payload : undefined
  const payload =
    payloadFile === undefined ? currentPayload : toPlistDict(readJSON(payloadFile), 'identity payload')
  if (!payload) throw new UsageError(`--identity ${chosen} needs --identity-payload FILE`)
  return { type: chosen, payload }
}

/** The document in the option's file; `null` for `none`, undefined when the option is absent. */
function ssoDocument(context: CommandContext, option: string): EnrollmentSSODocument | null | undefined {
  const value = context.option(option)
  if (value === undefined) return undefined
  return value === 'none' ? null : (readJSON(value) as EnrollmentSSODocument)
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as Error).message}`)
  }
}

function readJSON(path: string): unknown {
  try {
    return JSON.parse(readText(path))
  } catch (error) {
    if (error instanceof UsageError) throw error
    throw new UsageError(`${path} is not JSON`)
  }
}

function print(context: CommandContext, services: Services, config: AppleConfig): void {
  const view = appleConfigView(config, {
    publicUrl: services.publicUrl,
    issuer: services.tokens.issuer(config.tenantId),
  })
  context.out.result(view, () =>
    details({
      'Managed domains': list(view.managed_domains),
      'Enrollment types': Object.entries(view.enrollment_types)
        .map(([family, type]) => `${family}=${type}`)
        .join(','),
      Authentication: view.authentication_method,
      Client: view.client_id,
      'APNs topic': view.apns_topic,
      'Push certificate': view.push_certificate
        ? `${view.push_certificate.environment}, until ${time(view.push_certificate.not_after)}`
        : '-',
      'Profile signing': view.profile_signing_certificate
        ? `${view.profile_signing_certificate.subject.replace(/\n/g, ', ')}, until ${time(view.profile_signing_certificate.not_after)}`
        : 'unsigned',
      Organization: view.organization,
      Identity:
        view.identity.type === 'pkcs12'
          ? `pkcs12 (tenant CA, ${view.identity.key_type})`
          : view.identity.type,
      'Enrollment SSO': view.endpoints.enrollment_sso ?? '-',
      'Trust anchors': String(view.device_trust_anchors.length),
      'Well-known URL': view.endpoints.well_known,
      'Sign-in page': view.endpoints.sign_in,
      Updated: time(view.updated_at),
    }),
  )
}
