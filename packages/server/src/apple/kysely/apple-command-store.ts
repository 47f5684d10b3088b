import type { Selectable } from 'kysely'
import { affected, type Executor, optional } from '../../store/kysely/executor.ts'
import type { AppleCommand, AppleCommandStatus, AppleCommandStore } from '../apple-command-store.ts'
import { plistToJSON, toPlistDict } from '../plist-values.ts'
import type { AppleCommandsTable } from '../tables/apple-commands.ts'

export class KyselyAppleCommandStore implements AppleCommandStore {
  readonly #db: Executor
  constructor(db: Executor) {
    this.#db = db
  }

  async get(tenantId: string, commandUUID: string): Promise<AppleCommand | undefined> {
    const row = await this.#db
      .selectFrom('apple_commands')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('command_uuid', '=', commandUUID)
      .executeTakeFirst()
    return row && toCommand(row)
  }

  async list(tenantId: string, enrollmentId: string): Promise<AppleCommand[]> {
    const rows = await this.#db
      .selectFrom('apple_commands')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('enrollment_id', '=', enrollmentId)
      .orderBy('command_uuid')
      .execute()
    return rows.map(toCommand)
  }

  async create(command: AppleCommand): Promise<void> {
    await this.#db
      .insertInto('apple_commands')
      .values({
        command_uuid: command.commandUUID,
        tenant_id: command.tenantId,
        enrollment_id: command.enrollmentId,
        request_type: command.requestType,
        command: JSON.stringify(plistToJSON(command.command)),
        status: command.status,
        result: command.result ?? null,
        created_at: command.createdAt,
        sent_at: command.sentAt ?? null,
        completed_at: command.completedAt ?? null,
      })
      .execute()
  }

  async next(
    tenantId: string,
    enrollmentId: string,
    statuses: readonly AppleCommandStatus[],
  ): Promise<AppleCommand | undefined> {
    const row = await this.#db
      .selectFrom('apple_commands')
      .selectAll()
      .where('enrollment_id', '=', enrollmentId)
      .where('tenant_id', '=', tenantId)
      .where('status', 'in', statuses)
      .orderBy('command_uuid')
      .limit(1)
      .executeTakeFirst()
    return row && toCommand(row)
  }

  async markSent(tenantId: string, commandUUID: string, at: number): Promise<void> {
    await this.#db
      .updateTable('apple_commands')
      .set({ status: 'sent', sent_at: at })
      .where('tenant_id', '=', tenantId)
      .where('command_uuid', '=', commandUUID)
      .execute()
  }

  async recordResult(
    tenantId: string,
    enrollmentId: string,
    commandUUID: string,
    result: { status: AppleCommandStatus; report: string; at: number },
  ): Promise<boolean> {
    const updated = await this.#db
      .updateTable('apple_commands')
      .set({
        status: result.status,
        result: result.report,
        completed_at: result.status === 'NotNow' ? null : result.at,
      })
      .where('tenant_id', '=', tenantId)
      .where('enrollment_id', '=', enrollmentId)
      .where('command_uuid', '=', commandUUID)
      .executeTakeFirst()
    return affected(updated) > 0
  }
}

function toCommand(row: Selectable<AppleCommandsTable>): AppleCommand {
  return {
    commandUUID: row.command_uuid,
    tenantId: row.tenant_id,
    enrollmentId: row.enrollment_id,
    requestType: row.request_type,
    command: toPlistDict(JSON.parse(row.command), 'command'),
    status: row.status as AppleCommandStatus,
    result: optional(row.result),
    createdAt: row.created_at,
    sentAt: optional(row.sent_at),
    completedAt: optional(row.completed_at),
  }
}
