import type { FastifyReply } from 'fastify'

/**
 * Headers of every hosted-login response. The policy allows the page's own stylesheet and form
 * posts, nothing else: no scripts (the login forms may load this server's own passkey script
 * with `scripts: 'self'`, which also lets it fetch its options from here), no framing (with `X-Frame-Options` for old browsers),
 * no `<base>`. `formTargets` adds the client's redirect URI origin to `form-action`: browsers
 * apply `form-action` to the redirect that follows a form post too, and a successful sign-in
 * answers its form with a redirect to the client.
 */
export function setPageSecurityHeaders(
  reply: FastifyReply,
  options?: { formTargets?: readonly string[]; scripts?: 'self' },
): void {
  const formAction = ["'self'", ...(options?.formTargets ?? [])].join(' ')
  const scripts = options?.scripts === 'self' ? " script-src 'self'; connect-src 'self';" : ''
  reply.headers({
    'content-security-policy': `default-src 'none'; style-src 'self'; img-src 'self';${scripts} form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
  })
}

/** The CSP source that matches a redirect URI: its origin, or its scheme for custom schemes (`com.example.app:`). */
export function cspSourceOf(redirectUri: string): string {
  const url = new URL(redirectUri)
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : url.protocol
}
