import type { AppConfigResponse } from '@onramp/protocol'
import type { AppVersionPolicy } from '../store/client-store.ts'

/**
 * Compares dotted numeric versions ("2.10.1" > "2.9"); a pre-release suffix after '-' sorts
 * before its release. Returns <0, 0 or >0.
 */
export function compareVersions(a: string, b: string): number {
  const [coreA = '', preA] = a.split('-', 2)
  const [coreB = '', preB] = b.split('-', 2)
  const partsA = coreA.split('.').map(Number)
  const partsB = coreB.split('.').map(Number)
  for (let i = 0; i < Math.max(partsA.length, partsB.length); i++) {
    const diff = (partsA[i] ?? 0) - (partsB[i] ?? 0)
    if (diff !== 0) return diff
  }
  if (preA === preB) return 0
  if (preA === undefined) return 1
  if (preB === undefined) return -1
  return preA < preB ? -1 : 1
}

export const versionPattern = /^\d+(\.\d+){0,3}(-[0-9A-Za-z.]+)?$/

/** The SDK's start check: is this app version still accepted, and is there a newer one? */
export function appVersionStatus(
  policy: AppVersionPolicy | undefined,
  version: string,
  platform: string | undefined,
): AppConfigResponse {
  const range = { ...policy, ...(platform ? policy?.platforms?.[platform] : undefined) }
  const bounds = {
    ...(range.minVersion && { min_version: range.minVersion }),
    ...(range.latestVersion && { latest_version: range.latestVersion }),
  }
  if (range.minVersion && compareVersions(version, range.minVersion) < 0)
    return { status: 'update_necessary', ...bounds }
  if (range.latestVersion && compareVersions(version, range.latestVersion) < 0)
    return { status: 'update_available', ...bounds }
  return { status: 'ok', ...bounds }
}
