import type { Kysely } from 'kysely'

/**
 * The certificate a tenant's enrollment profiles are signed with: the chain (PEM, the signer's
 * certificate first) and its private key (PKCS #8 PEM sealed with the master key); null until an
 * administrator sets one.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('apple_configs').addColumn('profile_signing_chain', 'text').execute()
  await db.schema.alterTable('apple_configs').addColumn('profile_signing_private_key', 'text').execute()
}
