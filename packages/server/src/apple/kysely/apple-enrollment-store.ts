import type { Selectable } from 'kysely'
import { affected, type Executor, optional } from '../../store/kysely/executor.ts'
import type {
  AppleDeviceFacts,
  AppleEnrollment,
  AppleEnrollmentPatch,
  AppleEnrollmentStatus,
  AppleEnrollmentStore,
  AppleIdentityRenewal,
} from '../apple-enrollment-store.ts'
import type { EnrollmentType } from '../apple-settings.ts'
import type { AppleEnrollmentsTable } from '../tables/apple-enrollments.ts'

export class KyselyAppleEnrollmentStore implements AppleEnrollmentStore {
  readonly #db: Executor
  constructor(db: Executor) {
    this.#db = db
  }

  async get(tenantId: string, id: string): Promise<AppleEnrollment | undefined> {
    const row = await this.#db
      .selectFrom('apple_enrollments')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst()
    return row && toEnrollment(row)
  }

  async list(
    tenantId: string,
    options?: { profileId?: string; limit?: number; after?: string },
  ): Promise<AppleEnrollment[]> {
    let query = this.#db.selectFrom('apple_enrollments').selectAll().where('tenant_id', '=', tenantId)
    if (options?.profileId) query = query.where('profile_id', '=', options.profileId)
    if (options?.after) query = query.where('id', '>', options.after)
    const rows = await query
      .orderBy('id')
      .limit(options?.limit ?? 100)
      .execute()
    return rows.map(toEnrollment)
  }

  async create(enrollment: AppleEnrollment): Promise<void> {
    await this.#db
      .insertInto('apple_enrollments')
      .values({
        id: enrollment.id,
        tenant_id: enrollment.tenantId,
        profile_id: enrollment.profileId,
        grant_id: enrollment.grantId,
        enrollment_type: enrollment.enrollmentType,
        managed_apple_id: enrollment.managedAppleId,
        status: enrollment.status,
        ...deviceColumns(enrollment.device),
        topic: enrollment.push?.topic ?? null,
        push_token: enrollment.push?.token ?? null,
        push_magic: enrollment.push?.magic ?? null,
        identity_serial: enrollment.identitySerial ?? null,
        identity_sha256: enrollment.identitySHA256 ?? null,
        identity_not_after: enrollment.identityNotAfter ?? null,
        ...renewalColumns(enrollment.renewal),
        unlock_token: enrollment.sealedUnlockToken ?? null,
        created_at: enrollment.createdAt,
        updated_at: enrollment.updatedAt,
        last_seen_at: enrollment.lastSeenAt,
        checked_out_at: enrollment.checkedOutAt ?? null,
      })
      .execute()
  }

  async update(tenantId: string, id: string, patch: AppleEnrollmentPatch, at: number): Promise<boolean> {
    const device = patch.device ?? {}
    const result = await this.#db
      .updateTable('apple_enrollments')
      .set({
        updated_at: at,
        ...(patch.grantId !== undefined && { grant_id: patch.grantId }),
        ...(patch.status !== undefined && { status: patch.status }),
        ...(patch.lastSeenAt !== undefined && { last_seen_at: patch.lastSeenAt }),
        ...(patch.checkedOutAt !== undefined && { checked_out_at: patch.checkedOutAt }),
        ...(patch.sealedUnlockToken !== undefined && { unlock_token: patch.sealedUnlockToken }),
        ...(patch.push !== undefined && {
          topic: patch.push?.topic ?? null,
          push_token: patch.push?.token ?? null,
          push_magic: patch.push?.magic ?? null,
        }),
        ...(patch.identity !== undefined && {
          identity_serial: patch.identity.serial,
          identity_sha256: patch.identity.sha256,
          identity_not_after: patch.identity.notAfter,
        }),
        ...(patch.renewal !== undefined && renewalColumns(patch.renewal ?? undefined)),
        ...Object.fromEntries(Object.entries(deviceColumns(device)).filter(([, value]) => value !== null)),
      })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst()
    return affected(result) > 0
  }
}

function deviceColumns(device: Partial<AppleDeviceFacts>) {
  return {
    udid: device.udid ?? null,
    user_enrollment_id: device.userEnrollmentId ?? null,
    serial_number: device.serialNumber ?? null,
    product: device.product ?? null,
    os_build: device.osBuild ?? null,
    os_version: device.osVersion ?? null,
    language: device.language ?? null,
  }
}

function renewalColumns(renewal: AppleIdentityRenewal | undefined) {
  return {
    renewal_command_uuid: renewal?.commandUUID ?? null,
    renewal_identity_serial: renewal?.serial ?? null,
    renewal_identity_sha256: renewal?.sha256 ?? null,
    renewal_identity_not_after: renewal?.notAfter ?? null,
    renewal_profile: renewal?.sealedProfile ?? null,
  }
}

function toEnrollment(row: Selectable<AppleEnrollmentsTable>): AppleEnrollment {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    profileId: row.profile_id,
    grantId: row.grant_id,
    enrollmentType: row.enrollment_type as EnrollmentType,
    managedAppleId: row.managed_apple_id,
    status: row.status as AppleEnrollmentStatus,
    device: {
      udid: optional(row.udid),
      userEnrollmentId: optional(row.user_enrollment_id),
      serialNumber: optional(row.serial_number),
      product: optional(row.product),
      osBuild: optional(row.os_build),
      osVersion: optional(row.os_version),
      language: optional(row.language),
    },
    push:
      row.topic !== null && row.push_token !== null && row.push_magic !== null
        ? { topic: row.topic, token: row.push_token, magic: row.push_magic }
        : undefined,
    identitySerial: optional(row.identity_serial),
    identitySHA256: optional(row.identity_sha256),
    identityNotAfter: optional(row.identity_not_after),
    renewal:
      row.renewal_command_uuid !== null &&
      row.renewal_identity_serial !== null &&
      row.renewal_identity_sha256 !== null &&
      row.renewal_identity_not_after !== null &&
      row.renewal_profile !== null
        ? {
            commandUUID: row.renewal_command_uuid,
            serial: row.renewal_identity_serial,
            sha256: row.renewal_identity_sha256,
            notAfter: row.renewal_identity_not_after,
            sealedProfile: row.renewal_profile,
          }
        : undefined,
    sealedUnlockToken: optional(row.unlock_token),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastSeenAt: row.last_seen_at,
    checkedOutAt: optional(row.checked_out_at),
  }
}
