import type { AppleAuthenticationMethod } from './apple-settings.ts'

/** The callback scheme of the device's `ASWebAuthenticationSession`. */
export const appleCallbackScheme = 'apple-remotemanagement-user-login'

/** The OAuth 2 `redirect-url`: Apple's scheme and a path naming the server's redirection endpoint. */
export const appleOAuthRedirectURL = `${appleCallbackScheme}:/oauth2/redirection`

/** The parameters of the `WWW-Authenticate: Bearer` challenge, per authentication method. */
export type AppleChallenge =
  | { method: Extract<AppleAuthenticationMethod, 'apple-as-web'>; url: string }
  | {
      method: Extract<AppleAuthenticationMethod, 'apple-oauth2'>
      authorizationURL: string
      tokenURL: string
      redirectURL: string
      clientId: string
      scope: string
    }

/**
 * The header value exactly as Apple documents it, e.g.
 * `Bearer method="apple-as-web", url="https://mdm.example.com/authenticate"`.
 */
export function wwwAuthenticate(challenge: AppleChallenge): string {
  const params: [string, string][] =
    challenge.method === 'apple-as-web'
      ? [
          ['method', challenge.method],
          ['url', challenge.url],
        ]
      : [
          ['method', challenge.method],
          ['authorization-url', challenge.authorizationURL],
          ['token-url', challenge.tokenURL],
          ['redirect-url', challenge.redirectURL],
          ['client-id', challenge.clientId],
          ['scope', challenge.scope],
        ]
  return `Bearer ${params.map(([name, value]) => `${name}="${value.replace(/["\\]/g, '\\$&')}"`).join(', ')}`
}

/** Where the simple method's sign-in ends: the device's session picks the token from this URL. */
export function authenticationResultsURL(accessToken: string): string {
  return `${appleCallbackScheme}://authentication-results?${new URLSearchParams({ 'access-token': accessToken })}`
}
