import type { AppleChallenge } from './challenge.ts'

/**
 * The request needs a (new) sign-in: no bearer token, or one that is not valid for Apple
 * enrollment. Answered with 401 and the tenant's challenge, which starts the device's sign-in.
 */
export class AppleAuthenticationRequired extends Error {
  readonly challenge: AppleChallenge
  /** Enrollment SSO document URLs, for the initial challenge of an enrollment. */
  readonly enrollmentSSO: { url?: string; developerURL?: string }

  constructor(
    message: string,
    challenge: AppleChallenge,
    enrollmentSSO: { url?: string; developerURL?: string } = {},
  ) {
    super(message)
    this.name = 'AppleAuthenticationRequired'
    this.challenge = challenge
    this.enrollmentSSO = enrollmentSSO
  }
}

/** Service discovery refuses the user identifier or model family: Apple's `com.apple.well-known.failed`. */
export class DiscoveryRejected extends Error {
  /** For logs only (Apple's `description`); `message` is shown to the person. */
  readonly description: string

  constructor(description: string, message: string) {
    super(message)
    this.name = 'DiscoveryRejected'
    this.description = description
  }
}
