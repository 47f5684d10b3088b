/** Result of `GET /app-config` for the SDK's start. */
export const AppVersionStatuses = ['ok', 'update_available', 'update_necessary'] as const

export type AppVersionStatus = (typeof AppVersionStatuses)[number]

export interface AppConfigResponse {
  status: AppVersionStatus
  min_version?: string
  latest_version?: string
}

/** Query of `GET /app-config`: `app_name` is the client id unless the app registered another name. */
export interface AppConfigQuery {
  app_name: string
  app_version: string
  platform?: string
}
