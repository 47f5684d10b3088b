import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto'

/** A nonce is valid in the window it was made in and the next one. */
const windowSeconds = 300

/**
 * Stateless server nonces (RFC 9449 §8): the time window and an HMAC over it, so every node that
 * shares the master key accepts every other node's nonces without shared storage.
 */
export class DPoPNonces {
  // A KeyObject: node:crypto takes a Buffer key only after an internal throw and catch, which
  // costs several times the HMAC itself.
  readonly #secret: KeyObject

  constructor(secret: Buffer) {
    this.#secret = createSecretKey(secret)
  }

  current(tenantId: string, nowSeconds: number): string {
    return this.#make(tenantId, Math.floor(nowSeconds / windowSeconds))
  }

  isValid(tenantId: string, nonce: string, nowSeconds: number): boolean {
    const window = Math.floor(nowSeconds / windowSeconds)
    const given = Buffer.from(nonce)
    return [window, window - 1].some((w) => {
      const expected = Buffer.from(this.#make(tenantId, w))
      return expected.length === given.length && timingSafeEqual(expected, given)
    })
  }

  #make(tenantId: string, window: number): string {
    const prefix = window.toString(36)
    const mac = createHmac('sha256', this.#secret)
      .update(`${tenantId}.${prefix}`)
      .digest()
      .subarray(0, 16)
      .toString('base64url')
    return `${prefix}.${mac}`
  }
}
