/** How the SDK protects a device's secrets at rest; recorded on the device at enrollment. */
export const AuthenticationModes = ['no', 'password', 'biometric'] as const

export type AuthenticationMode = (typeof AuthenticationModes)[number]

export function isAuthenticationMode(value: unknown): value is AuthenticationMode {
  return typeof value === 'string' && (AuthenticationModes as readonly string[]).includes(value)
}

/**
 * RFC 8176 authentication method references for each mode. Biometric devices whose key is
 * hardware-backed report `hwk`; the SDK tells the server which at enrollment.
 */
export function amrForMode(mode: AuthenticationMode, options?: { hardwareKey?: boolean }): string[] {
  switch (mode) {
    case 'no':
      return ['swk']
    case 'password':
      return ['swk', 'pin']
    case 'biometric':
      return [options?.hardwareKey ? 'hwk' : 'swk', 'user']
  }
}
