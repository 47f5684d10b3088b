import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startTestServer, type TestServer } from '../../../server/test/support/server.ts'
import type { FetchFunction } from '../../src/index.ts'
import { type SampleResource, type SampleResourceOptions, startSampleResource } from './sample-resource.ts'

export const demo = { tenant: 'demo', client: 'demo-app', audience: 'demo-api' } as const

/** One call the SDK made: method, URL without query, and the grant type of token requests. */
export interface RecordedCall {
  method: string
  url: string
  grantType: string | undefined
}

/** `fetch` that records what it was asked; `block` holds token requests until released. */
export interface CountingFetch {
  fetch: FetchFunction
  calls: RecordedCall[]
  count(filter: { grantType?: string; urlStartsWith?: string }): number
}

export function countingFetch(): CountingFetch {
  const calls: RecordedCall[] = []
  return {
    calls,
    fetch: (input, init) => {
      const url = String(input instanceof Request ? input.url : input)
      const body = typeof init?.body === 'string' ? new URLSearchParams(init.body) : undefined
      calls.push({
        method: init?.method ?? 'GET',
        url: url.split('?')[0]!,
        grantType: body?.get('grant_type') ?? undefined,
      })
      return fetch(input, init)
    },
    count: (filter) =>
      calls.filter(
        (call) =>
          (filter.grantType === undefined || call.grantType === filter.grantType) &&
          (filter.urlStartsWith === undefined || call.url.startsWith(filter.urlStartsWith)),
      ).length,
  }
}

/** The real server (rate limits off) and a sample backend for `demo-api`. */
export interface Onramp {
  server: TestServer
  api: SampleResource
  close(): Promise<void>
}

export async function startOnramp(
  options: { api?: Omit<SampleResourceOptions, 'issuer' | 'audience'> } = {},
): Promise<Onramp> {
  const server = await startTestServer({ env: { ONRAMP_ENROLLMENT_RATE_LIMIT: 'off' } })
  const api = await startSampleResource({ issuer: server.issuer(), audience: demo.audience, ...options.api })
  let closed: Promise<void> | undefined
  return {
    server,
    api,
    close: () => {
      closed ??= api.close().then(() => server.close())
      return closed
    },
  }
}

/** A temporary folder for `FileStorage`, removed by `remove()`. */
export async function temporaryDirectory(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'onramp-sdk-'))
  return { path, remove: () => rm(path, { recursive: true, force: true }) }
}
