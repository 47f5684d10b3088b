import assert from 'node:assert/strict'
import { request } from 'node:http'

/**
 * Plain HTTP for the end-to-end tests: requests outside the strict client, for what a
 * well-behaved client never sends, and the checks every error answer must pass.
 */

/** A response read in full. */
export interface RawResponse {
  status: number
  headers: Headers
  /** Parsed JSON, or the text when the response is not JSON. */
  body: unknown
}

/** A request outside the strict client, for what a well-behaved client would never send. */
export async function send(url: string, init: RequestInit = {}): Promise<RawResponse> {
  const response = await fetch(url, { redirect: 'manual', ...init, signal: AbortSignal.timeout(10_000) })
  const text = await response.text()
  const isJSON = /^application\/(.+\+)?json/.test(response.headers.get('content-type') ?? '')
  return {
    status: response.status,
    headers: response.headers,
    body: isJSON && text ? JSON.parse(text) : text,
  }
}

/**
 * A request through `node:http`, for what `fetch` cannot send: header values given as a list go
 * out as separate header lines.
 */
export function sendRaw(
  url: string,
  init: { method?: string; headers?: Record<string, string | string[]>; body?: string | Buffer },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      { method: init.method ?? 'GET', headers: init.headers, timeout: 10_000 },
      (incoming) => {
        const chunks: Buffer[] = []
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk))
        incoming.on('error', reject)
        incoming.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          const headers = new Headers()
          for (const [name, value] of Object.entries(incoming.headers)) {
            for (const v of Array.isArray(value) ? value : [value])
              if (v !== undefined) headers.append(name, v)
          }
          const isJSON = /^application\/(.+\+)?json/.test(headers.get('content-type') ?? '')
          resolve({
            status: incoming.statusCode ?? 0,
            headers,
            body: isJSON && text ? JSON.parse(text) : text,
          })
        })
      },
    )
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer from ${url}`)))
    outgoing.on('error', reject)
    outgoing.end(init.body)
  })
}

export function postForm(url: string, params: Record<string, string>, headers: Record<string, string> = {}) {
  return send(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(params).toString(),
  })
}

/** An OAuth error response: the status, a JSON body with `error` and a string `error_description`. */
export function assertOAuthError(response: RawResponse, status: number, error: string): void {
  assert.equal(response.status, status, JSON.stringify(response.body))
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/)
  const body = response.body as Record<string, unknown>
  assert.equal(body.error, error, String(body.error_description))
  assert.equal(typeof body.error_description, 'string')
}
