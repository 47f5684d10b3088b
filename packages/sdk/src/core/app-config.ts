import { type AppConfigQuery, type AppConfigResponse, AppVersionStatuses } from '@onramp/protocol'
import type { FetchFunction } from '../adapters/fetch.ts'
import { Deadline } from './deadline.ts'

export interface AppVersionCheck {
  status: AppConfigResponse['status']
  minVersion?: string
  latestVersion?: string
}

/**
 * Asks `GET {issuer}/app-config` whether this version of the app may run. Undefined when the
 * server cannot tell (offline, unknown app, bad answer): the SDK must start offline, so only a
 * definite `update_necessary` stops it.
 */
export async function checkAppVersion(options: {
  issuer: string
  query: AppConfigQuery
  fetch: FetchFunction
  timeout: number
}): Promise<AppVersionCheck | undefined> {
  const query = new URLSearchParams({
    app_name: options.query.app_name,
    app_version: options.query.app_version,
    ...(options.query.platform !== undefined && { platform: options.query.platform }),
  })
  const deadline = new Deadline(options.timeout)
  try {
    const response = await options.fetch(`${options.issuer}/app-config?${query}`, {
      headers: { accept: 'application/json' },
      signal: deadline.signal,
    })
    if (!response.ok) {
      await response.body?.cancel()
      return undefined
    }
    const body = (await response.json()) as Partial<AppConfigResponse>
    if (!AppVersionStatuses.includes(body.status as AppConfigResponse['status'])) return undefined
    return {
      status: body.status as AppConfigResponse['status'],
      ...(typeof body.min_version === 'string' && { minVersion: body.min_version }),
      ...(typeof body.latest_version === 'string' && { latestVersion: body.latest_version }),
    }
  } catch {
    return undefined
  } finally {
    deadline.clear()
  }
}
