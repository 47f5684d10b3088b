import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto'

/** A nonce is valid in the window it was made in and the next one. */
const windowSeconds = 300

/**
 * Stateless DPoP server nonces (RFC 9449 §9): the time window and an HMAC over it, so every
 * instance that shares the secret accepts every other instance's nonces without shared storage.
 */
export class DPoPNonces {
  // A KeyObject: node:crypto takes a Buffer key only after an internal throw and catch, which
  // costs several times the HMAC itself.
  readonly #secret: KeyObject

  constructor(secret: Uint8Array) {
    if (secret.length < 32) throw new RangeError('dpopNonce.secret must be at least 32 bytes')
    this.#secret = createSecretKey(secret)
  }

  current(nowSeconds: number): string {
    return this.#make(Math.floor(nowSeconds / windowSeconds))
  }

  isValid(nonce: string, nowSeconds: number): boolean {
    const window = Math.floor(nowSeconds / windowSeconds)
    const given = Buffer.from(nonce)
    return [window, window - 1].some((w) => {
      const expected = Buffer.from(this.#make(w))
      return expected.length === given.length && timingSafeEqual(expected, given)
    })
  }

  #make(window: number): string {
    const prefix = window.toString(36)
    const mac = createHmac('sha256', this.#secret)
      .update(prefix)
      .digest()
      .subarray(0, 16)
      .toString('base64url')
    return `${prefix}.${mac}`
  }
}
