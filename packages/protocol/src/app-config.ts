/** Result of `GET /app-config` for the SDK's start. */
export const AppVersionStatuses = ['ok', 'update_available', 'update_necessary'] as const

export type AppVersionStatus = (typeof AppVersionStatuses)[number]

export interface AppConfigResponse {
  status: AppVersionStatus
  min_version?: string
  latest_version?: string
}
