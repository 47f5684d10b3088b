import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import * as oauth from 'oauth4webapi'

export interface ResourceServer {
  /** The protected URL, `http://127.0.0.1:{port}/api`. */
  url: string
  close(): Promise<void>
}

/**
 * A third-party backend that accepts tokens the way RFC 9068 and RFC 9449 say, using
 * oauth4webapi's resource-server validation (JWKS from the issuer, `aud`, `typ`, DPoP proof,
 * `ath`, `cnf.jkt`): 200 with the token's claims, or 401 with the reason.
 */
export async function startResourceServer(
  as: oauth.AuthorizationServer,
  audience: string,
): Promise<ResourceServer> {
  const server = createServer((incoming, outgoing) => {
    validate(incoming).then(
      (claims) => {
        outgoing.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(claims))
      },
      (error: Error) => {
        outgoing
          .writeHead(401, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: 'invalid_token', error_description: error.message }))
      },
    )
  })

  async function validate(incoming: IncomingMessage): Promise<oauth.JWTAccessTokenClaims> {
    const headers = new Headers()
    for (const [name, value] of Object.entries(incoming.headers)) {
      if (typeof value === 'string') headers.set(name, value)
    }
    const request = new Request(`${url.replace(/\/api$/, '')}${incoming.url}`, {
      method: incoming.method,
      headers,
    })
    return oauth.validateJwtAccessToken(as, request, audience, { [oauth.allowInsecureRequests]: true })
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`
  return {
    url,
    close: () =>
      new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  }
}

/** Calls the resource with the token and a DPoP proof by `dpop` (Bearer without one). */
export async function callResource(
  resource: ResourceServer,
  accessToken: string,
  dpop: oauth.DPoPHandle | undefined,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await oauth.protectedResourceRequest(
    accessToken,
    'GET',
    new URL(resource.url),
    undefined,
    null,
    {
      [oauth.allowInsecureRequests]: true,
      ...(dpop && { DPoP: dpop }),
    },
  )
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}
