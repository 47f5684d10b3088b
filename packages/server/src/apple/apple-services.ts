import type { SecretBox } from '../crypto/secret-box.ts'
import type { Clock } from '../domain/clock.ts'
import type { TokenManager } from '../domain/token-manager.ts'
import type { EphemeralStore } from '../ephemeral/ephemeral-store.ts'
import type { Store } from '../store/stores.ts'
import { AppleAuthorizer } from './apple-authorization.ts'
import { AppleConfigManager } from './apple-config-manager.ts'
import { AppleEnrollmentManager } from './apple-enrollment-manager.ts'
import { AppleMdmManager } from './apple-mdm-manager.ts'
import { AppleSignIn, type SignInCodes } from './apple-sign-in.ts'
import { DeviceCertificateAuthority } from './device-ca.ts'
import { EnrollmentProfileIssuer } from './profile-issuer.ts'
import { ApnsPushNotifier, type PushNotifier } from './push-notifier.ts'

/** Apple account-driven enrollment, as the HTTP routes and the CLI use it. */
export interface AppleServices {
  configs: AppleConfigManager
  enrollments: AppleEnrollmentManager
  signIn: AppleSignIn
  mdm: AppleMdmManager
}

export function createAppleServices(options: {
  store: Store
  ephemeral: EphemeralStore
  clock: Clock
  tokens: TokenManager
  /** Seals the private keys of the device CAs and push certificates, and devices' unlock tokens. */
  secretBox: SecretBox
  /** The hosted login's authorization codes (the simple method signs in through them). */
  codes: SignInCodes
  push?: PushNotifier
}): AppleServices {
  const { store, clock, tokens } = options
  const issuer = (tenantId: string): string => tokens.issuer(tenantId)
  const ca = new DeviceCertificateAuthority({ secretBox: options.secretBox })
  const configs = new AppleConfigManager({ store, clock, ca, secretBox: options.secretBox, issuer })
  const authorizer = new AppleAuthorizer({ store, tokens })
  const profiles = new EnrollmentProfileIssuer({ ca, configs, issuer })
  const enrollments = new AppleEnrollmentManager({ store, clock, tokens, configs, authorizer, profiles })
  return {
    configs,
    enrollments,
    signIn: new AppleSignIn({ ephemeral: options.ephemeral, codes: options.codes, enrollments, issuer }),
    mdm: new AppleMdmManager({
      store,
      clock,
      configs,
      authorizer,
      push: options.push ?? new ApnsPushNotifier(),
      secretBox: options.secretBox,
      profiles,
    }),
  }
}
