import type { SecretBox } from '../crypto/secret-box.ts'
import { AppError } from '../errors/app-error.ts'
import type { UpstreamProvider } from '../store/tenant-store.ts'

/** An upstream provider as an administrator gives it: the client secret in the clear, once. */
export interface UpstreamProviderInput {
  name: string
  issuer: string
  clientId: string
  /** Write-only: sealed before it is stored, never shown again. */
  clientSecret?: string
  scopes?: string[]
}

export const maxUpstreamProviders = 10

const namePattern = /^[a-z0-9][a-z0-9-]{0,31}$/
const scopePattern = /^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/

/** The `identities` provider of an upstream provider's people. */
export function upstreamIdentityProvider(name: string): string {
  return `oidc:${name}`
}

/** Binds a sealed secret to its tenant and provider: it cannot be copied to another record. */
export function clientSecretContext(tenantId: string, name: string): string {
  return `upstream-client-secret:${tenantId}:${name}`
}

/**
 * Checks the providers an administrator sets and seals their secrets. The list replaces the
 * previous one; a provider given without a secret keeps the secret stored for the same name,
 * issuer and client, so an administrator can change scopes without typing the secret again.
 */
export function prepareUpstreamProviders(
  tenantId: string,
  inputs: readonly UpstreamProviderInput[],
  options: { previous: readonly UpstreamProvider[]; secretBox: SecretBox },
): UpstreamProvider[] {
  if (inputs.length > maxUpstreamProviders)
    throw new AppError(
      'invalid_input',
      `settings.upstreamProviders holds at most ${maxUpstreamProviders} providers`,
    )
  const names = new Set<string>()
  return inputs.map((input) => {
    if (!namePattern.test(input.name))
      throw new AppError(
        'invalid_input',
        'an upstream provider name is 1–32 lower-case letters, digits or dashes, starting with a letter or digit',
      )
    if (names.has(input.name))
      throw new AppError('invalid_input', `upstream provider "${input.name}" is listed twice`)
    names.add(input.name)
    checkIssuer(input.issuer)
    if (typeof input.clientId !== 'string' || input.clientId.length === 0 || input.clientId.length > 255)
      throw new AppError('invalid_input', `upstream provider "${input.name}" needs a client id`)
    const scopes = [...new Set(['openid', ...(input.scopes ?? [])])]
    if (!scopes.every((scope) => scopePattern.test(scope)) || scopes.length > 20)
      throw new AppError('invalid_input', `the scopes of upstream provider "${input.name}" are not valid`)
    const provider: UpstreamProvider = {
      name: input.name,
      issuer: input.issuer,
      clientId: input.clientId,
      scopes,
    }
    if (input.clientSecret !== undefined) {
      if (input.clientSecret.length === 0 || input.clientSecret.length > 1024)
        throw new AppError(
          'invalid_input',
          `the client secret of upstream provider "${input.name}" is not valid`,
        )
      provider.sealedClientSecret = options.secretBox.seal(
        input.clientSecret,
        clientSecretContext(tenantId, input.name),
      )
    } else {
      const kept = options.previous.find(
        (p) => p.name === input.name && p.issuer === input.issuer && p.clientId === input.clientId,
      )?.sealedClientSecret
      if (kept !== undefined) provider.sealedClientSecret = kept
    }
    return provider
  })
}

/** HTTPS, or plain HTTP on the loopback interface (a developer's or a test's provider). */
function checkIssuer(issuer: string): void {
  let url: URL
  try {
    url = new URL(issuer)
  } catch {
    throw new AppError('invalid_input', 'an upstream provider issuer must be a URL')
  }
  const loopback = url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]'
  if (!(url.protocol === 'https:' || (url.protocol === 'http:' && loopback)) || url.search || url.hash)
    throw new AppError(
      'invalid_input',
      'an upstream provider issuer must be an https URL without query or fragment',
    )
}
