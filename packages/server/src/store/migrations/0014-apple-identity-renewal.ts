import type { Kysely } from 'kysely'

/**
 * The device identity's expiry, and a renewal under way: the new identity's serial, fingerprint
 * and expiry, and the `InstallProfile` command that carries it; null when none is pending (and
 * the expiry null for enrollments recorded before it was kept). The profile the command installs
 * is kept sealed with the master key (its PKCS #12 holds the new private key) and added to the
 * command only as it is sent.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const [column, type] of [
    ['identity_not_after', 'bigint'],
    ['renewal_command_uuid', 'varchar(64)'],
    ['renewal_identity_serial', 'varchar(64)'],
    ['renewal_identity_sha256', 'varchar(64)'],
    ['renewal_identity_not_after', 'bigint'],
    ['renewal_profile', 'text'],
  ] as const) {
    await db.schema.alterTable('apple_enrollments').addColumn(column, type).execute()
  }
}
