import { formatScope, parseScope } from '../domain/scope.ts'
import { InvalidScope } from '../errors/oauth-error.ts'

/** The scope to grant: what was asked for, which must be a subset of what is allowed, else all of it. */
export function grantedScope(requested: string | undefined, allowed: readonly string[]): string {
  if (requested === undefined) return formatScope(allowed)
  const scopes = parseScope(requested)
  if (!scopes) throw new InvalidScope('scope is malformed')
  const unknown = scopes.filter((s) => !allowed.includes(s))
  if (unknown.length > 0) throw new InvalidScope(`scope not allowed: ${unknown.join(' ')}`)
  return formatScope(scopes)
}
