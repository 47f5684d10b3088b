import { JWSAlgorithms } from '@onramp/crypto'
import { ResourceError, type ResourceErrorCode, type ResourceErrorStatus } from '../resource-error.ts'

export type AuthenticationScheme = 'Bearer' | 'DPoP'

const statusOf: Record<ResourceErrorCode, ResourceErrorStatus> = {
  invalid_request: 400,
  invalid_token: 401,
  insufficient_scope: 403,
  invalid_dpop_proof: 401,
  use_dpop_nonce: 401,
  temporarily_unavailable: 503,
}

const dpopAlgs = `algs="${JWSAlgorithms.join(' ')}"`

export interface ChallengeOptions {
  /** The scheme the client used; both accepted schemes are offered when undefined. */
  scheme?: AuthenticationScheme | undefined
  /** RFC 6750 §3.1: a request without any credentials gets a challenge without an error code. */
  hasCredentials?: boolean
  /** Scopes to name in `scope="…"` (insufficient_scope). */
  scope?: readonly string[]
  /** With use_dpop_nonce: the nonce to retry with. */
  nonce?: string
}

/** Makes RFC 6750 / RFC 9449 refusals with the `WWW-Authenticate` challenges this resource accepts. */
export class Challenger {
  readonly #acceptsBearer: boolean

  constructor(options: { requireDPoP: boolean }) {
    this.#acceptsBearer = !options.requireDPoP
  }

  refuse(code: ResourceErrorCode, description: string, options: ChallengeOptions = {}): ResourceError {
    const status = statusOf[code]
    if (code === 'temporarily_unavailable') {
      return new ResourceError(code, description, { status, headers: { 'retry-after': '5' } })
    }
    const params: string[] = []
    if (options.hasCredentials !== false) {
      params.push(`error="${code}"`, `error_description="${quotable(description)}"`)
      if (options.scope?.length) params.push(`scope="${quotable(options.scope.join(' '))}"`)
    }
    const scheme = code === 'use_dpop_nonce' || !this.#acceptsBearer ? 'DPoP' : options.scheme
    const challenges: string[] = []
    if (scheme !== 'DPoP') challenges.push(params.length ? `Bearer ${params.join(', ')}` : 'Bearer')
    if (scheme !== 'Bearer') challenges.push(`DPoP ${[dpopAlgs, ...params].join(', ')}`)
    const headers: Record<string, string> = { 'www-authenticate': challenges.join(', ') }
    if (options.nonce !== undefined) headers['dpop-nonce'] = options.nonce
    return new ResourceError(code, description, { status, headers })
  }
}

/** RFC 6750 §3: error_description and scope values are limited to printable ASCII without `"` and `\`. */
function quotable(value: string): string {
  return value.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '')
}
