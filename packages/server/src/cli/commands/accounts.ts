import type { Account } from '../../domain/account-manager.ts'
import { accountView, passkeyView } from '../../http/admin/views.ts'
import {
  type CommandContext,
  type CommandGroup,
  tenantOption,
  tenantServices,
  UsageError,
} from '../command.ts'
import { details, list, time } from '../output.ts'

const profileOption = { type: 'string', value: 'ID', description: 'profile id' } as const
const credentialOption = {
  type: 'string',
  value: 'ID',
  description: 'credential id (base64url)',
  required: true,
} as const

export const accountCommands: CommandGroup = {
  summary: "people's accounts: how they sign in, their passkeys",
  commands: {
    show: {
      summary: 'show an account by profile id, email, or identity',
      options: {
        tenant: tenantOption,
        profile: profileOption,
        email: { type: 'string', value: 'EMAIL', description: 'the email of a local account' },
        identity: { type: 'string', value: 'PROVIDER:SUBJECT', description: 'e.g. oidc:corp:248289761001' },
      },
      async run(context) {
        const { services, tenant } = await tenantServices(context)
        const account = await find(context, tenant)
        context.out.result(accountView(account), () => describeAccount(account))
      },
    },
    'rename-passkey': {
      summary: "name one of an account's passkeys; a blank name unnames it",
      options: {
        tenant: tenantOption,
        profile: { ...profileOption, required: true },
        credential: credentialOption,
        name: { type: 'string', value: 'NAME', description: 'at most 64 characters', required: true },
      },
      async run(context) {
        const services = await context.services()
        const passkey = await services.accounts.renamePasskey(
          context.required('tenant'),
          context.required('profile'),
          context.required('credential'),
          context.required('name'),
        )
        context.out.result(passkeyView(passkey), () =>
          passkey.name === undefined
            ? `Passkey "${passkey.credentialId}" has no name now.`
            : `Passkey "${passkey.credentialId}" is named "${passkey.name}".`,
        )
      },
    },
    'remove-passkey': {
      summary: 'remove a passkey from an account: it signs in no more',
      options: {
        tenant: tenantOption,
        profile: { ...profileOption, required: true },
        credential: credentialOption,
      },
      async run(context) {
        const credential = context.required('credential')
        const services = await context.services()
        await services.accounts.removePasskey(
          context.required('tenant'),
          context.required('profile'),
          credential,
        )
        context.out.result(
          { credential_id: credential, removed: true },
          () => `Removed passkey "${credential}".`,
        )
      },
    },
  },
}

/** The account that exactly one of --profile, --email and --identity names. */
async function find(context: CommandContext, tenant: string): Promise<Account> {
  const given = ['profile', 'email', 'identity'].filter((name) => context.option(name) !== undefined)
  if (given.length !== 1) throw new UsageError('give one of --profile, --email and --identity')
  const { accounts } = await context.services()
  const email = context.option('email')
  if (email !== undefined) return accounts.findByIdentity(tenant, 'local', email)
  const identity = context.option('identity')
  if (identity !== undefined) {
    // The provider ends at the last colon before the subject: `oidc:{name}` has one of its own.
    const match = /^(local|passkey|oidc:[a-z0-9-]+):(.+)$/.exec(identity)
    if (!match) throw new UsageError('--identity takes PROVIDER:SUBJECT, e.g. local:ann@example.com')
    return accounts.findByIdentity(tenant, match[1]!, match[2]!)
  }
  return accounts.get(tenant, context.required('profile'))
}

function describeAccount({ profile, identities, passkeys }: Account): string {
  return details({
    'profile id': profile.id,
    kind: profile.kind,
    created: time(profile.createdAt),
    'last active': time(profile.lastActiveAt),
    'signs in with': list(identities.map((i) => `${i.provider}:${i.subject}`)),
    passkeys: list(
      passkeys.map((p) => (p.name === undefined ? p.credentialId : `${p.credentialId} (${p.name})`)),
    ),
  })
}
