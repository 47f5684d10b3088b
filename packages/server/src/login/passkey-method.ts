import { randomBytes } from 'node:crypto'
import { PasskeyACR } from '@onramp/protocol'
import {
  type AuthenticationResponseJSON,
  type AuthenticatorTransport,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server'
import type { Clock } from '../domain/clock.ts'
import type { Identity } from '../store/identity-store.ts'
import type { PasskeyCredentialStore } from '../store/passkey-credential-store.ts'
import type {
  AuthenticationMethod,
  BeginInput,
  Ceremony,
  MethodInput,
  MethodResult,
  PendingRoundTrip,
} from './authentication-method.ts'

/** The `identities` provider of passkeys; the subject is the passkey's WebAuthn user handle. */
export const passkeyProvider = 'passkey'

/** The user handles of a profile's passkeys, from its identities. */
export function passkeyHandles(identities: readonly Identity[]): string[] {
  return identities
    .filter((identity) => identity.provider === passkeyProvider)
    .map((identity) => identity.subject)
}

const maxResponseLength = 16_384

/**
 * Passkeys (WebAuthn, through SimpleWebAuthn). `register` creates a discoverable credential for a
 * new random user handle and signs in as the (`passkey`, handle) identity; `sign_in` asks for any
 * discoverable credential of this relying party and signs in as its handle's identity. User
 * verification is required, so both authenticate at `acr` 2 with `amr` `hwk` (a device-bound
 * credential) or `swk` (a synced one), `user` and `mfa` (RFC 8176: possession plus the
 * authenticator's user verification). The relying party id is the public URL's host name: one
 * for all tenants of the server, the credentials are kept per tenant.
 */
export class PasskeyMethod implements AuthenticationMethod {
  readonly id = passkeyProvider
  readonly actions = ['register', 'sign_in'] as const
  readonly #credentials: PasskeyCredentialStore
  readonly #clock: Clock
  readonly #rpID: string
  readonly #origin: string

  constructor(options: { credentials: PasskeyCredentialStore; clock: Clock; publicUrl: string }) {
    this.#credentials = options.credentials
    this.#clock = options.clock
    const url = new URL(options.publicUrl)
    this.#rpID = url.hostname
    this.#origin = url.origin
  }

  async begin(input: BeginInput): Promise<Ceremony> {
    if (input.action === 'register') {
      const userHandle = randomBytes(32).toString('base64url')
      const name = (input.fields.name ?? '').trim().slice(0, 64) || `${input.tenant.name} account`
      const options = await generateRegistrationOptions({
        rpName: input.tenant.name,
        rpID: this.#rpID,
        userID: Buffer.from(userHandle, 'base64url'),
        userName: name,
        attestationType: 'none',
        authenticatorSelection: { residentKey: 'preferred', userVerification: 'required' },
        excludeCredentials: (
          await this.#credentials.listForUserHandles(input.tenant.id, input.accountPasskeyHandles ?? [])
        ).map((c) => ({ id: c.credentialId, transports: c.transports as AuthenticatorTransport[] })),
      })
      return { options, pending: pending({ action: 'register', challenge: options.challenge, userHandle }) }
    }
    const options = await generateAuthenticationOptions({ rpID: this.#rpID, userVerification: 'required' })
    return { options, pending: pending({ action: 'sign_in', challenge: options.challenge }) }
  }

  async authenticate(input: MethodInput): Promise<MethodResult> {
    const kept = input.pending?.values
    const response = parseResponse(input.fields.response)
    if (!kept?.challenge || kept.action !== input.action || !response)
      return failed('This passkey request did not start here, or was already used. Try again.')
    const expected = {
      expectedChallenge: kept.challenge,
      expectedOrigin: this.#origin,
      expectedRPID: this.#rpID,
      requireUserVerification: true,
    }
    if (input.action === 'register') {
      const userHandle = kept.userHandle
      if (!userHandle) return failed('This passkey request did not start here. Try again.')
      let verified: Awaited<ReturnType<typeof verifyRegistrationResponse>>
      try {
        verified = await verifyRegistrationResponse({
          response: response as unknown as RegistrationResponseJSON,
          ...expected,
        })
      } catch {
        return failed('The passkey could not be created. Try again.')
      }
      if (!verified.verified || !verified.registrationInfo) return failed('The passkey could not be created.')
      const { credential, credentialDeviceType, aaguid } = verified.registrationInfo
      const now = this.#clock.now()
      const created = await this.#credentials.createIfAbsent({
        tenantId: input.tenant.id,
        credentialId: credential.id,
        userHandle,
        publicKey: Buffer.from(credential.publicKey).toString('base64url'),
        counter: credential.counter,
        transports: credential.transports ?? [],
        createdAt: now,
        lastUsedAt: now,
        name: passkeyName(input.fields.passkey_name),
        aaguid,
        deviceType: credentialDeviceType === 'multiDevice' ? 'multi_device' : 'single_device',
      })
      if (!created) return failed('This passkey is registered already. Sign in with it instead.')
      return this.#authenticated(userHandle, credentialDeviceType)
    }

    const stored =
      typeof response.id === 'string' ? await this.#credentials.get(input.tenant.id, response.id) : undefined
    if (!stored) return failed('This passkey is not known here. Sign in another way, or create an account.')
    let verified: Awaited<ReturnType<typeof verifyAuthenticationResponse>>
    try {
      verified = await verifyAuthenticationResponse({
        response: response as unknown as AuthenticationResponseJSON,
        ...expected,
        credential: {
          id: stored.credentialId,
          publicKey: Buffer.from(stored.publicKey, 'base64url'),
          counter: stored.counter,
          transports: stored.transports as AuthenticatorTransport[],
        },
      })
    } catch {
      return failed('The passkey could not be checked. Try again.')
    }
    if (!verified.verified) return failed('The passkey could not be checked. Try again.')
    const { newCounter, credentialDeviceType } = verified.authenticationInfo
    await this.#credentials.recordUse(input.tenant.id, stored.credentialId, {
      counter: newCounter,
      usedAt: this.#clock.now(),
    })
    return this.#authenticated(stored.userHandle, credentialDeviceType)
  }

  #authenticated(userHandle: string, deviceType: 'singleDevice' | 'multiDevice'): MethodResult {
    return {
      status: 'authenticated',
      authentication: {
        provider: passkeyProvider,
        subject: userHandle,
        acr: PasskeyACR,
        amr: [deviceType === 'singleDevice' ? 'hwk' : 'swk', 'user', 'mfa'],
        authTime: this.#clock.now(),
      },
    }
  }
}

/**
 * Control characters, white space, and the invisible or direction-changing format characters
 * that could make one name look like another (zero-width joiners stay: emoji and scripts use them).
 */
const unshownCharacters = /[\p{Cc}\s\u200B\u200E\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]+/gu

/**
 * A passkey's name as a person typed it, fit to show: runs of the characters above become one
 * space, at most 64 characters are kept; nothing left is no name.
 */
export function passkeyName(text: string | undefined): string | undefined {
  const name = [...(text ?? '').replace(unshownCharacters, ' ').trim()].slice(0, 64).join('').trim()
  return name || undefined
}

function pending(values: Record<string, string>): PendingRoundTrip {
  return { method: 'passkey', values }
}

/** The page's JSON-encoded WebAuthn response, or undefined when it is not a JSON object of sane size. */
function parseResponse(text: string | undefined): Record<string, unknown> | undefined {
  if (!text || text.length > maxResponseLength) return undefined
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

function failed(message: string): MethodResult {
  return { status: 'rejected', rejection: { reason: 'invalid_credentials', message, fieldErrors: [] } }
}
