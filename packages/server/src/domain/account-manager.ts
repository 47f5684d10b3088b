import { AppError } from '../errors/app-error.ts'
import { passkeyHandles, passkeyName, passkeyProvider } from '../login/passkey-method.ts'
import type { Identity } from '../store/identity-store.ts'
import type { PasskeyCredential } from '../store/passkey-credential-store.ts'
import type { Profile } from '../store/profile-store.ts'
import type { Store, Stores } from '../store/stores.ts'
import { normalizeEmail } from './local-account-manager.ts'

/** A person's account: the profile, how they sign in, their passkeys. */
export interface Account {
  profile: Profile
  identities: Identity[]
  passkeys: PasskeyCredential[]
}

/**
 * People's accounts, for administrators and for the people themselves: a profile with its
 * identities and passkeys, found by its id or by one of its identities, and the removal of a
 * passkey (a lost or replaced device). Tokens are the devices' business (`DeviceManager`),
 * attributes the profile's (`ProfileManager`).
 */
export class AccountManager {
  readonly #store: Store

  constructor(options: { store: Store }) {
    this.#store = options.store
  }

  async get(tenantId: string, profileId: string): Promise<Account> {
    const profile = await this.#store.profiles.get(tenantId, profileId)
    if (!profile) throw new AppError('not_found', `profile "${profileId}" does not exist`)
    // By provider and subject: identities made in one millisecond have no order of their own.
    const identities = (await this.#store.identities.listForProfile(tenantId, profileId)).sort(
      (a, b) => a.provider.localeCompare(b.provider) || a.subject.localeCompare(b.subject),
    )
    return {
      profile,
      identities,
      passkeys: await this.#store.passkeyCredentials.listForUserHandles(tenantId, passkeyHandles(identities)),
    }
  }

  /** The account an identity belongs to; a local account's subject is its email, in any case. */
  async findByIdentity(tenantId: string, provider: string, subject: string): Promise<Account> {
    const key = provider === 'local' ? (normalizeEmail(subject) ?? subject) : subject
    const identity = await this.#store.identities.find(tenantId, provider, key)
    if (!identity) throw new AppError('not_found', `no account signs in as ${provider} "${subject}"`)
    return this.get(tenantId, identity.profileId)
  }

  /**
   * Removes one of the account's passkeys: it signs in no more. Its identity goes with the last
   * passkey of its user handle, so the account is offered a passkey again. `keepSignIn` refuses
   * (409) to take the account's last way to sign in, as people removing their own passkeys must
   * not lock themselves out; an administrator removing a lost one may.
   */
  async removePasskey(
    tenantId: string,
    profileId: string,
    credentialId: string,
    options: { keepSignIn?: boolean } = {},
  ): Promise<void> {
    await this.#store.transaction(async (stores) => {
      const credential = await ownedPasskey(stores, tenantId, profileId, credentialId)
      await stores.passkeyCredentials.delete(tenantId, credentialId)
      const left = await stores.passkeyCredentials.listForUserHandles(tenantId, [credential.userHandle])
      if (left.length > 0) return
      await stores.identities.delete(tenantId, passkeyProvider, credential.userHandle)
      if (options.keepSignIn && (await stores.identities.listForProfile(tenantId, profileId)).length === 0)
        throw new AppError('conflict', 'this is the account’s last way to sign in; add another first')
    })
  }

  /** Names one of the account's passkeys (see `passkeyName`); no name, or a blank one, unnames it. */
  async renamePasskey(
    tenantId: string,
    profileId: string,
    credentialId: string,
    name: string | undefined,
  ): Promise<PasskeyCredential> {
    return this.#store.transaction(async (stores) => {
      const credential = await ownedPasskey(stores, tenantId, profileId, credentialId)
      const named = passkeyName(name)
      await stores.passkeyCredentials.rename(tenantId, credentialId, named)
      return { ...credential, name: named }
    })
  }
}

/** The passkey, when it signs in to this profile; 404 otherwise, another person's included. */
async function ownedPasskey(
  stores: Stores,
  tenantId: string,
  profileId: string,
  credentialId: string,
): Promise<PasskeyCredential> {
  const credential = await stores.passkeyCredentials.get(tenantId, credentialId)
  const identity =
    credential && (await stores.identities.find(tenantId, passkeyProvider, credential.userHandle))
  if (!credential || identity?.profileId !== profileId)
    throw new AppError('not_found', `profile "${profileId}" has no passkey "${credentialId}"`)
  return credential
}
