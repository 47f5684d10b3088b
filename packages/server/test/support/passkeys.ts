import { timeOrderedId } from '../../src/crypto/secrets.ts'
import type { Store } from '../../src/store/stores.ts'

/**
 * Passkeys stored directly, for tests that are not about the WebAuthn ceremony: the `passkey`
 * identity of `userHandle` on the profile, and one credential for each id, made a second apart
 * from 1,795,000,000 and not used yet.
 */
export async function storePasskeys(
  store: Store,
  passkeys: {
    tenantId: string
    profileId: string
    userHandle: string
    credentialIds: readonly string[]
    transports?: string[]
  },
): Promise<void> {
  const { tenantId, profileId, userHandle } = passkeys
  await store.identities.createIfAbsent({
    id: timeOrderedId(),
    tenantId,
    provider: 'passkey',
    subject: userHandle,
    profileId,
    createdAt: 1_795_000_000,
  })
  for (const [i, credentialId] of passkeys.credentialIds.entries()) {
    await store.passkeyCredentials.createIfAbsent({
      tenantId,
      credentialId,
      userHandle,
      publicKey: 'pQECAyYgASFYIA',
      counter: 0,
      transports: passkeys.transports ?? ['internal'],
      createdAt: 1_795_000_000 + i,
      lastUsedAt: undefined,
    })
  }
}
