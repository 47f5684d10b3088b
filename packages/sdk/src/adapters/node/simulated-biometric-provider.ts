import { base64url } from 'jose'
import type { BiometricOutcome, BiometricProvider, BiometricRegistration } from '../biometric-provider.ts'

export type BiometricDecision = 'approve' | 'deny' | 'unavailable'

export interface SimulatedBiometricProviderOptions {
  /** 32 bytes behind every credential; share it (or the provider) between launches. Random by default. */
  secret?: Uint8Array
  decision?: BiometricDecision
}

/**
 * A biometric provider for tests and headless Node: it approves, denies or is unavailable as it
 * is told, and derives each credential's key material from its secret with HMAC-SHA-256, as a
 * WebAuthn PRF authenticator would from its credential key.
 */
export class SimulatedBiometricProvider implements BiometricProvider {
  readonly #secret: Uint8Array
  #decision: BiometricDecision
  #prompts = 0

  constructor(options: SimulatedBiometricProviderOptions = {}) {
    this.#secret = options.secret ?? crypto.getRandomValues(new Uint8Array(32))
    this.#decision = options.decision ?? 'approve'
  }

  /** How often the user was asked to verify. */
  get prompts(): number {
    return this.#prompts
  }

  decide(decision: BiometricDecision): void {
    this.#decision = decision
  }

  async createCredential(options: { salt: Uint8Array; label: string }): Promise<BiometricRegistration> {
    this.#prompts++
    if (this.#decision === 'deny') return { status: 'Denied' }
    if (this.#decision === 'unavailable') return { status: 'Unavailable' }
    const credentialId = base64url.encode(crypto.getRandomValues(new Uint8Array(16)))
    return {
      status: 'Approved',
      credentialId,
      keyMaterial: await this.#keyMaterial(credentialId, options.salt),
    }
  }

  async getKeyMaterial(options: { credentialId: string; salt: Uint8Array }): Promise<BiometricOutcome> {
    this.#prompts++
    if (this.#decision === 'deny') return { status: 'Denied' }
    if (this.#decision === 'unavailable') return { status: 'Unavailable' }
    return { status: 'Approved', keyMaterial: await this.#keyMaterial(options.credentialId, options.salt) }
  }

  async #keyMaterial(credentialId: string, salt: Uint8Array): Promise<Uint8Array> {
    const key = await crypto.subtle.importKey(
      'raw',
      this.#secret as Uint8Array<ArrayBuffer>,
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign'],
    )
    const input = new Uint8Array([...new TextEncoder().encode(credentialId), 0, ...salt])
    return new Uint8Array(await crypto.subtle.sign('HMAC', key, input))
  }
}
