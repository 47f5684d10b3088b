/** RFC 6749 §3.3 scope strings. */
const scopeToken = /^[\x21\x23-\x5B\x5D-\x7E]+$/

export function parseScope(scope: string | undefined): string[] | undefined {
  if (scope === undefined) return undefined
  const tokens = scope.split(' ').filter((s) => s.length > 0)
  if (!tokens.every((t) => scopeToken.test(t))) return undefined
  return [...new Set(tokens)]
}

export function formatScope(scopes: readonly string[]): string {
  return scopes.join(' ')
}
