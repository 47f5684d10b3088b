/** Opt-in CORS for browser pages that call the backend cross-origin (the SDK in a web app). */
export interface CORSOptions {
  /**
   * The pages' origins, exactly as browsers send them (`https://app.example.com`, with the port
   * when it is not the scheme's default), or a function that decides for each origin.
   */
  origins: readonly string[] | ((origin: string) => boolean)
  /** Seconds a browser may keep a preflight's answer; 600 by default (browsers cap it at 2 h or less). */
  maxAge?: number
}

/**
 * What a page sends besides the CORS-safelisted headers: the DPoP scheme's `Authorization` and
 * `DPoP`, the body's `Content-Type` (`application/jose` and JSON are not safelisted), and the
 * response key of payload encryption.
 */
export const CORSAllowedHeaders = 'Authorization, DPoP, Content-Type, Onramp-Response-Key'

/** What the page must read beyond the safelisted headers: the challenges, and DPoP nonces. */
export const CORSExposedHeaders = 'WWW-Authenticate, DPoP-Nonce'

const allowedMethods = 'GET, HEAD, POST, PUT, PATCH, DELETE'

/**
 * The CORS answers of one backend. Only the origin decides; the answer names it (never `*`) and
 * never allows credentials: the SDK sends no cookies, and its tokens need a proof of the device
 * key anyway. Every answer varies with `Origin`, which the integrations add to `Vary`.
 */
export class CORSPolicy {
  readonly #isAllowed: (origin: string) => boolean
  readonly #maxAge: string

  constructor(options: CORSOptions) {
    const { origins } = options
    if (typeof origins === 'function') {
      this.#isAllowed = origins
    } else if (Array.isArray(origins)) {
      for (const origin of origins) checkOrigin(origin)
      const allowed = new Set(origins)
      this.#isAllowed = (origin) => allowed.has(origin)
    } else {
      throw new TypeError('cors.origins must be a list of origins or a function')
    }
    const maxAge = options.maxAge ?? 600
    if (!Number.isInteger(maxAge) || maxAge < 0)
      throw new RangeError('cors.maxAge must be whole seconds, 0 or more')
    this.#maxAge = String(maxAge)
  }

  /** A CORS-preflight request (Fetch standard): `OPTIONS` with `Origin` and `Access-Control-Request-Method`. */
  isPreflight(method: string, origin: string | undefined, requestMethod: string | undefined): boolean {
    return method === 'OPTIONS' && origin !== undefined && requestMethod !== undefined
  }

  /** The headers of the answer to a preflight: none but `Vary` for an origin that is not allowed. */
  preflightHeaders(origin: string | undefined): Record<string, string> {
    if (!this.#allows(origin)) return {}
    return {
      'access-control-allow-origin': origin,
      'access-control-allow-methods': allowedMethods,
      'access-control-allow-headers': CORSAllowedHeaders,
      'access-control-max-age': this.#maxAge,
    }
  }

  /** The headers of every other response to the origin, refusals included. */
  responseHeaders(origin: string | undefined): Record<string, string> {
    if (!this.#allows(origin)) return {}
    return { 'access-control-allow-origin': origin, 'access-control-expose-headers': CORSExposedHeaders }
  }

  #allows(origin: string | undefined): origin is string {
    return origin !== undefined && origin !== 'null' && this.#isAllowed(origin)
  }
}

/** `vary` with `field` added, unless it is there already (or `*`). */
export function varyOn(vary: string | undefined, field: string): string {
  if (!vary) return field
  const fields = vary.split(',').map((name) => name.trim().toLowerCase())
  return fields.includes(field.toLowerCase()) || fields.includes('*') ? vary : `${vary}, ${field}`
}

function checkOrigin(origin: unknown): void {
  let parsed: URL | undefined
  try {
    parsed = new URL(String(origin))
  } catch {
    parsed = undefined
  }
  if (typeof origin !== 'string' || parsed?.origin !== origin || origin === 'null')
    throw new TypeError(
      `cors.origins: ${String(origin)} is not an origin (scheme://host[:port], no path or slash)`,
    )
}
