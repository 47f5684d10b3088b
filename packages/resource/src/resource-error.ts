/**
 * Why a request was refused: the RFC 6750 §3.1 and RFC 9449 §7.1 / §9 codes, plus
 * `temporarily_unavailable` when the issuer's keys (or the replay cache) cannot be reached.
 */
export const ResourceErrorCodes = [
  'invalid_request',
  'invalid_token',
  'insufficient_scope',
  'invalid_dpop_proof',
  'use_dpop_nonce',
  'temporarily_unavailable',
] as const

export type ResourceErrorCode = (typeof ResourceErrorCodes)[number]

export type ResourceErrorStatus = 400 | 401 | 403 | 503

/** The JSON body of a refusal: `{"error": …, "error_description": …}`. */
export interface ResourceErrorBody {
  error: ResourceErrorCode
  error_description: string
}

/**
 * A refused request: the status and headers (`www-authenticate`, `dpop-nonce`, `retry-after`) to
 * answer with. The message describes what is wrong with the request, never our internals.
 */
export class ResourceError extends Error {
  readonly code: ResourceErrorCode
  readonly status: ResourceErrorStatus
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string>>

  constructor(
    code: ResourceErrorCode,
    description: string,
    options: { status: ResourceErrorStatus; headers?: Record<string, string> },
  ) {
    super(description)
    this.name = 'ResourceError'
    this.code = code
    this.status = options.status
    this.headers = options.headers ?? {}
  }

  get body(): ResourceErrorBody {
    return { error: this.code, error_description: this.message }
  }

  toResponse(): Response {
    return new Response(JSON.stringify(this.body), {
      status: this.status,
      headers: { ...this.headers, 'content-type': 'application/json', 'cache-control': 'no-store' },
    })
  }
}
