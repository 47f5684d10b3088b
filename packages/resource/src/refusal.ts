import type { ResourceErrorCode } from './resource-error.ts'

/**
 * A check failed. Raised by the token, proof and payload checks, which do not know how the client
 * authenticated; the verifier turns it into a `ResourceError` with the right challenge.
 */
export class Refusal extends Error {
  readonly code: Exclude<ResourceErrorCode, 'insufficient_scope'>
  /** With `use_dpop_nonce`: the nonce to retry with. */
  readonly nonce: string | undefined

  constructor(code: Refusal['code'], message: string, options?: { nonce?: string }) {
    super(message)
    this.name = 'Refusal'
    this.code = code
    this.nonce = options?.nonce
  }
}
