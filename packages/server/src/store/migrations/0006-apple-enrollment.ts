import type { Kysely } from 'kysely'

/**
 * Apple account-driven enrollment: each tenant's configuration and device CA, the domains whose
 * users it enrolls (a domain belongs to one tenant), the enrollments and their MDM command queue;
 * and clients that may skip PKCE (Apple's OAuth 2 enrollment client cannot send it).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('clients')
    .addColumn('pkce_required', 'integer', (c) => c.notNull().defaultTo(1))
    .execute()

  await db.schema
    .createTable('apple_configs')
    .addColumn('tenant_id', 'varchar(64)', (c) => c.primaryKey().references('tenants.id').onDelete('cascade'))
    .addColumn('settings', 'text', (c) => c.notNull())
    .addColumn('ca_key_type', 'varchar(8)')
    .addColumn('ca_certificate', 'text')
    .addColumn('ca_private_key', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute()

  await db.schema
    .createTable('apple_managed_domains')
    .addColumn('domain', 'varchar(253)', (c) => c.primaryKey())
    .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .execute()
  await db.schema
    .createIndex('apple_managed_domains_tenant')
    .on('apple_managed_domains')
    .column('tenant_id')
    .execute()

  // What devices report is kept as text: its length is checked before it is stored.
  await db.schema
    .createTable('apple_enrollments')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('profile_id', 'varchar(64)', (c) => c.notNull().references('profiles.id').onDelete('cascade'))
    .addColumn('grant_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('enrollment_type', 'varchar(16)', (c) => c.notNull())
    .addColumn('managed_apple_id', 'varchar(320)', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('udid', 'text')
    .addColumn('user_enrollment_id', 'text')
    .addColumn('serial_number', 'text')
    .addColumn('product', 'text')
    .addColumn('os_build', 'text')
    .addColumn('os_version', 'text')
    .addColumn('language', 'text')
    .addColumn('topic', 'text')
    .addColumn('push_token', 'text')
    .addColumn('push_magic', 'text')
    .addColumn('identity_serial', 'varchar(64)')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('checked_out_at', 'bigint')
    .execute()
  await db.schema
    .createIndex('apple_enrollments_tenant')
    .on('apple_enrollments')
    .columns(['tenant_id', 'id'])
    .execute()
  await db.schema
    .createIndex('apple_enrollments_profile')
    .on('apple_enrollments')
    .column('profile_id')
    .execute()

  // Command UUIDs are time-ordered: the queue is served in their order.
  await db.schema
    .createTable('apple_commands')
    .addColumn('command_uuid', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('tenant_id', 'varchar(64)', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('enrollment_id', 'varchar(64)', (c) =>
      c.notNull().references('apple_enrollments.id').onDelete('cascade'),
    )
    .addColumn('request_type', 'varchar(128)', (c) => c.notNull())
    .addColumn('command', 'text', (c) => c.notNull())
    .addColumn('status', 'varchar(32)', (c) => c.notNull())
    .addColumn('result', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('sent_at', 'bigint')
    .addColumn('completed_at', 'bigint')
    .execute()
  await db.schema
    .createIndex('apple_commands_queue')
    .on('apple_commands')
    .columns(['enrollment_id', 'command_uuid'])
    .execute()
}
