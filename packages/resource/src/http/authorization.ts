import type { AuthenticationScheme } from './challenge.ts'

export interface Credentials {
  scheme: AuthenticationScheme
  token: string
}

const pattern = /^(Bearer|DPoP) +([A-Za-z0-9\-._~+/]+=*) *$/i
const schemePattern = /^(Bearer|DPoP)(?: |$)/i

/**
 * The access token of an `Authorization` header (RFC 6750 §2.1, RFC 9449 §7.1). `malformed` when
 * it uses one of our schemes with something that is not a token68, `undefined` when it carries no
 * credentials for us at all.
 */
export function parseAuthorization(
  value: string | undefined,
): Credentials | { scheme: AuthenticationScheme; token: undefined } | undefined {
  if (!value) return undefined
  const match = pattern.exec(value)
  if (match) return { scheme: schemeOf(match[1]!), token: match[2]! }
  const scheme = schemePattern.exec(value)
  return scheme ? { scheme: schemeOf(scheme[1]!), token: undefined } : undefined
}

function schemeOf(name: string): AuthenticationScheme {
  return name.length === 4 ? 'DPoP' : 'Bearer'
}
