import { DPoPNonceHeader } from '@onramp/protocol'

/**
 * The latest `DPoP-Nonce` of each server (RFC 9449 §8), by origin: every response may carry a
 * new one, and the next proof to that origin includes it.
 */
export class DPoPNonces {
  readonly #byOrigin = new Map<string, string>()

  get(url: string): string | undefined {
    return this.#byOrigin.get(new URL(url).origin)
  }

  /** Keeps the response's nonce, if it has one; returns it. */
  remember(url: string, response: Response): string | undefined {
    const nonce = response.headers.get(DPoPNonceHeader) ?? undefined
    if (nonce) this.#byOrigin.set(new URL(url).origin, nonce)
    return nonce
  }

  clear(): void {
    this.#byOrigin.clear()
  }
}

/** The `error` parameter of a `WWW-Authenticate` challenge (RFC 6750 §3, RFC 9449 §7.1). */
export function challengeError(response: Response): string | undefined {
  const header = response.headers.get('www-authenticate')
  return header ? /(?:^|[\s,])error="([^"]*)"/.exec(header)?.[1] : undefined
}
