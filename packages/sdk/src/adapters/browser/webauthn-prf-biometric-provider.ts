import { base64url } from 'jose'
import { randomBytes } from '../../crypto/random.ts'
import type { BiometricOutcome, BiometricProvider, BiometricRegistration } from '../biometric-provider.ts'

export interface WebAuthnPRFBiometricProviderOptions {
  /** The relying party id (a registrable domain of the page); the page's host by default. */
  rpId?: string
  /** The relying party's name, shown by some authenticators; the page's host by default. */
  rpName?: string
  /** Milliseconds the user has to answer a prompt; 60,000 by default. */
  timeout?: number
  /** `navigator.credentials` by default. */
  credentials?: CredentialsContainer
}

/** Flags of the authenticator data (WebAuthn §6.1): byte 32, bit 2 says the user was verified. */
const flagsOffset = 32
const userVerifiedFlag = 0x04
const keyMaterialLength = 32

/** `PublicKeyCredential` as recent browsers have it; older ones lack these statics. */
type PublicKeyCredentialStatics = {
  isUserVerifyingPlatformAuthenticatorAvailable?: () => Promise<boolean>
  getClientCapabilities?: () => Promise<Record<string, boolean | undefined>>
  signalUnknownCredential?: (options: { rpId: string; credentialId: string }) => Promise<void>
}

/**
 * Mode `biometric` in browsers, with the WebAuthn PRF extension: a platform credential (Touch ID,
 * Windows Hello, Android's screen lock; passkey providers too) that turns the SDK's salt into 32
 * bytes only after verifying the user (`prf.eval.first`). Nothing leaves the browser: there is no
 * server-side WebAuthn ceremony, the challenge is random and the signature is not checked by
 * anyone; what counts is that the authenticator releases the PRF output only to this origin's
 * relying party id and only after user verification (checked in the authenticator data's flags).
 *
 * Answers `Unavailable` when the browser has no WebAuthn or no user-verifying platform
 * authenticator, or the authenticator does not support PRF (then the new credential is useless:
 * the browser is told to forget it where it supports `signalUnknownCredential`). A cancelled or
 * failed verification is `Denied`; WebAuthn does not tell it apart from a credential that was
 * deleted from the authenticator.
 */
export class WebAuthnPRFBiometricProvider implements BiometricProvider {
  readonly #options: WebAuthnPRFBiometricProviderOptions

  constructor(options: WebAuthnPRFBiometricProviderOptions = {}) {
    if (options.timeout !== undefined && !(options.timeout > 0))
      throw new RangeError('timeout must be a positive number of milliseconds')
    this.#options = options
  }

  async createCredential(options: { salt: Uint8Array; label: string }): Promise<BiometricRegistration> {
    const credentials = this.#credentials()
    if (!credentials || !(await isPlatformAuthenticatorAvailable())) return { status: 'Unavailable' }
    let credential: PublicKeyCredential
    try {
      const created = await credentials.create({
        publicKey: {
          rp: {
            name: this.#options.rpName ?? (globalThis.location?.hostname || 'Onramp'),
            ...rpIdMember(this.#rpId()),
          },
          // A random handle: nothing about the user goes to the authenticator but the label.
          user: { id: randomBytes(16), name: options.label, displayName: options.label },
          challenge: randomBytes(32),
          pubKeyCredParams: [
            { type: 'public-key', alg: -7 },
            { type: 'public-key', alg: -257 },
          ],
          authenticatorSelection: {
            authenticatorAttachment: 'platform',
            userVerification: 'required',
            residentKey: 'preferred',
          },
          attestation: 'none',
          timeout: this.#timeout(),
          extensions: { prf: { eval: { first: options.salt as Uint8Array<ArrayBuffer> } } },
        },
      })
      if (!isPublicKeyCredential(created)) return { status: 'Denied' }
      credential = created
    } catch (error) {
      return failureOf(error)
    }
    const credentialId = base64url.encode(new Uint8Array(credential.rawId))
    const outcome = await this.#firstKeyMaterial(credential, credentialId, options.salt)
    if (outcome.status !== 'Approved') {
      // A credential that cannot open the enrollment is of no use to anyone.
      await this.deleteCredential(credentialId)
      return outcome
    }
    return { status: 'Approved', credentialId, keyMaterial: outcome.keyMaterial }
  }

  async getKeyMaterial(options: { credentialId: string; salt: Uint8Array }): Promise<BiometricOutcome> {
    const credentials = this.#credentials()
    if (!credentials) return { status: 'Unavailable' }
    let credential: PublicKeyCredential
    try {
      const asserted = await credentials.get({
        publicKey: {
          challenge: randomBytes(32),
          ...rpIdMember(this.#rpId()),
          allowCredentials: [
            { type: 'public-key', id: base64url.decode(options.credentialId) as Uint8Array<ArrayBuffer> },
          ],
          userVerification: 'required',
          timeout: this.#timeout(),
          extensions: { prf: { eval: { first: options.salt as Uint8Array<ArrayBuffer> } } },
        },
      })
      if (!isPublicKeyCredential(asserted)) return { status: 'Denied' }
      credential = asserted
    } catch (error) {
      return failureOf(error)
    }
    const response = credential.response as AuthenticatorAssertionResponse
    if (!isUserVerified(response.authenticatorData)) return { status: 'Denied' }
    const keyMaterial = bytesOf(credential.getClientExtensionResults().prf?.results?.first)
    if (!keyMaterial) return { status: 'Unavailable' }
    return { status: 'Approved', keyMaterial }
  }

  /** Asks the browser to forget the credential (Signal API); where it cannot, the credential stays. */
  async deleteCredential(credentialId: string): Promise<void> {
    const rpId = this.#rpId()
    const statics = globalThis.PublicKeyCredential as PublicKeyCredentialStatics | undefined
    if (rpId === undefined || typeof statics?.signalUnknownCredential !== 'function') return
    await statics.signalUnknownCredential({ rpId, credentialId }).catch(() => {})
  }

  /** A new credential's key material: from its creation, or from an assertion right after it. */
  async #firstKeyMaterial(
    credential: PublicKeyCredential,
    credentialId: string,
    salt: Uint8Array,
  ): Promise<BiometricOutcome> {
    const response = credential.response as AuthenticatorAttestationResponse
    if (
      typeof response.getAuthenticatorData === 'function' &&
      !isUserVerified(response.getAuthenticatorData())
    )
      return { status: 'Denied' }
    const prf = credential.getClientExtensionResults().prf
    if (prf?.enabled !== true && prf?.results?.first === undefined) return { status: 'Unavailable' }
    const keyMaterial = bytesOf(prf.results?.first)
    if (keyMaterial) return { status: 'Approved', keyMaterial }
    // Many authenticators evaluate PRF only for assertions: ask for one (a second prompt).
    return this.getKeyMaterial({ credentialId, salt })
  }

  #credentials(): CredentialsContainer | undefined {
    if (this.#options.credentials) return this.#options.credentials
    if (typeof globalThis.PublicKeyCredential !== 'function') return undefined
    return globalThis.navigator?.credentials
  }

  #rpId(): string | undefined {
    return this.#options.rpId ?? globalThis.location?.hostname
  }

  #timeout(): number {
    return this.#options.timeout ?? 60_000
  }
}

async function isPlatformAuthenticatorAvailable(): Promise<boolean> {
  const statics = globalThis.PublicKeyCredential as PublicKeyCredentialStatics | undefined
  try {
    if (
      statics?.isUserVerifyingPlatformAuthenticatorAvailable &&
      !(await statics.isUserVerifyingPlatformAuthenticatorAvailable())
    )
      return false
    // Only a definite "no" counts: browsers that cannot tell are asked for the credential anyway.
    const capabilities = await statics?.getClientCapabilities?.()
    return capabilities?.['extension:prf'] !== false
  } catch {
    return true
  }
}

function isPublicKeyCredential(credential: Credential | null): credential is PublicKeyCredential {
  return credential?.type === 'public-key'
}

function rpIdMember(rpId: string | undefined): { id: string } | Record<string, never> {
  return rpId === undefined ? {} : { id: rpId }
}

function isUserVerified(authenticatorData: ArrayBuffer): boolean {
  const flags = new Uint8Array(authenticatorData)[flagsOffset]
  return flags !== undefined && (flags & userVerifiedFlag) !== 0
}

function bytesOf(value: BufferSource | undefined): Uint8Array | undefined {
  if (value === undefined) return undefined
  const bytes = ArrayBuffer.isView(value)
    ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
    : new Uint8Array(value)
  return bytes.length === keyMaterialLength ? bytes.slice() : undefined
}

/**
 * `NotAllowedError` (and `AbortError`) is what WebAuthn answers to a cancelled, failed or timed
 * out verification; the other errors say the platform cannot do it (no authenticator, bad
 * relying party id, an insecure context). Anything else is a bug and is thrown.
 */
function failureOf(error: unknown): { status: 'Denied' } | { status: 'Unavailable' } {
  if (!(error instanceof DOMException)) throw error
  return error.name === 'NotAllowedError' || error.name === 'AbortError'
    ? { status: 'Denied' }
    : { status: 'Unavailable' }
}
