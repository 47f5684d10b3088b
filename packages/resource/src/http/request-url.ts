/** How to find the URL a client called (the DPoP proof's `htu`) when a proxy stands in between. */
export interface RequestURLOptions {
  /** The external base URL; the request path is appended to it (after its own path, if any). */
  publicUrl?: string | undefined
  /** Take scheme and host from `Forwarded` (RFC 7239) or `X-Forwarded-Proto` / `X-Forwarded-Host`. */
  trustProxy?: boolean | undefined
}

export interface RequestURLParts {
  /** What the framework reports: `https://host:port`. */
  origin: string
  /** Path and query as received. */
  path: string
  header(name: string): string | undefined
}

/** Resolves `RequestURLOptions` once; `url(parts)` then runs per request. */
export class RequestURLResolver {
  readonly #base: string | undefined
  readonly #trustProxy: boolean

  constructor(options: RequestURLOptions) {
    if (options.publicUrl !== undefined) {
      const url = new URL(options.publicUrl)
      if (url.search || url.hash) throw new TypeError('publicUrl must not have a query or fragment')
      this.#base = `${url.origin}${url.pathname.replace(/\/+$/, '')}`
    }
    this.#trustProxy = options.trustProxy === true
  }

  url(parts: RequestURLParts): string {
    if (this.#base !== undefined) return `${this.#base}${parts.path}`
    if (this.#trustProxy) {
      const forwarded = forwardedOrigin(parts)
      if (forwarded) return `${forwarded}${parts.path}`
    }
    return `${parts.origin}${parts.path}`
  }
}

function forwardedOrigin(parts: RequestURLParts): string | undefined {
  let proto: string | undefined
  let host: string | undefined
  const forwarded = parts.header('forwarded')
  if (forwarded) {
    // The first element is what the client-facing proxy saw.
    const first = forwarded.split(',')[0]!
    for (const pair of first.split(';')) {
      const [name, raw] = pair.split('=', 2).map((s) => s.trim())
      const value = raw?.replace(/^"(.*)"$/, '$1')
      if (name?.toLowerCase() === 'proto') proto = value
      else if (name?.toLowerCase() === 'host') host = value
    }
  }
  proto ??= firstValue(parts.header('x-forwarded-proto'))
  host ??= firstValue(parts.header('x-forwarded-host'))
  if (!proto && !host) return undefined
  const origin = new URL(parts.origin)
  return `${proto ?? origin.protocol.slice(0, -1)}://${host ?? origin.host}`
}

/** The first of a comma-separated list of header values: what the client-facing proxy set. */
function firstValue(value: string | undefined): string | undefined {
  return value?.split(',')[0]?.trim() || undefined
}
