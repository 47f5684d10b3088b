/** The value of one cookie in a `Cookie` header, if it is there once. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined
  const values = header
    .split(';')
    .map((pair) => pair.trim())
    .filter((pair) => pair.startsWith(`${name}=`))
    .map((pair) => pair.slice(name.length + 1))
  return values.length === 1 ? values[0] : undefined
}

/**
 * The interaction cookie: `__Host-` prefixed and `Secure` when the server is reached over HTTPS
 * (RFC 6265bis §4.1.3.2: no `Domain`, `Path=/`). Over plain HTTP — a developer's
 * `http://localhost` or `http://127.0.0.1` — browsers drop `Secure` cookies and refuse the
 * `__Host-` prefix without `Secure`, so the cookie is set without both there.
 */
export interface InteractionCookie {
  name: string
  set(value: string, maxAgeSeconds: number): string
  clear(): string
}

export function interactionCookie(publicUrl: string, tenantId: string): InteractionCookie {
  const secure = new URL(publicUrl).protocol === 'https:'
  // One cookie per tenant: signing in to two tenants at once in one browser does not mix them up.
  const name = `${secure ? '__Host-' : ''}onramp-login-${tenantId}`
  const attributes = `Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`
  return {
    name,
    set: (value, maxAgeSeconds) => `${name}=${value}; Max-Age=${maxAgeSeconds}; ${attributes}`,
    clear: () => `${name}=; Max-Age=0; ${attributes}`,
  }
}
