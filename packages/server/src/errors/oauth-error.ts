import type { OAuthErrorCode } from '@onramp/protocol'

/**
 * A protocol error, rendered as RFC 6749 §5.2 JSON. Subclasses are named after the RFC codes,
 * so a handler reads `throw new InvalidGrant('refresh token expired')`.
 */
export class OAuthError extends Error {
  readonly code: OAuthErrorCode
  readonly status: number
  /** Extra response headers, e.g. `WWW-Authenticate` or `DPoP-Nonce`. */
  readonly headers: Record<string, string>

  constructor(
    code: OAuthErrorCode,
    description: string,
    options?: { status?: number; headers?: Record<string, string> },
  ) {
    super(description)
    this.name = 'OAuthError'
    this.code = code
    this.status = options?.status ?? 400
    this.headers = options?.headers ?? {}
  }
}

export class InvalidRequest extends OAuthError {
  constructor(description: string, options?: { status?: number }) {
    super('invalid_request', description, options)
  }
}

/** RFC 6749 §5.2: 401, with a challenge when the client tried HTTP Basic. */
export class InvalidClient extends OAuthError {
  constructor(description: string, options?: { basicChallenge?: boolean }) {
    super('invalid_client', description, {
      status: 401,
      headers: options?.basicChallenge ? { 'www-authenticate': 'Basic realm="onramp"' } : {},
    })
  }
}

export class InvalidGrant extends OAuthError {
  constructor(description: string) {
    super('invalid_grant', description)
  }
}

export class UnauthorizedClient extends OAuthError {
  constructor(description: string) {
    super('unauthorized_client', description)
  }
}

export class UnsupportedGrantType extends OAuthError {
  constructor(description: string) {
    super('unsupported_grant_type', description)
  }
}

export class InvalidScope extends OAuthError {
  constructor(description: string) {
    super('invalid_scope', description)
  }
}

export class InvalidTarget extends OAuthError {
  constructor(description: string) {
    super('invalid_target', description)
  }
}

export class InvalidDPoPProof extends OAuthError {
  constructor(description: string, options?: { status?: number; headers?: Record<string, string> }) {
    super('invalid_dpop_proof', description, options)
  }
}

/** RFC 9449 §8: the client must retry with the nonce in the `DPoP-Nonce` header. */
export class UseDPoPNonce extends OAuthError {
  constructor(nonce: string, options?: { status?: number; headers?: Record<string, string> }) {
    super('use_dpop_nonce', 'Authorization server requires nonce in DPoP proof', {
      status: options?.status ?? 400,
      headers: { 'dpop-nonce': nonce, ...options?.headers },
    })
  }
}

export class TooManyRequests extends OAuthError {
  constructor(retryAfterSeconds: number) {
    super('temporarily_unavailable', 'Too many requests; retry later', {
      status: 429,
      headers: { 'retry-after': String(retryAfterSeconds) },
    })
  }
}
