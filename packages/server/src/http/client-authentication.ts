import type { Services } from '../domain/services.ts'
import { InvalidClient, InvalidRequest } from '../errors/oauth-error.ts'
import type { Client } from '../store/client-store.ts'
import type { Tenant } from '../store/tenant-store.ts'

export type ClientAuthMethod = 'none' | 'client_secret_basic' | 'client_secret_post'

export const clientAuthMethods: readonly ClientAuthMethod[] = [
  'none',
  'client_secret_basic',
  'client_secret_post',
]

/**
 * RFC 6749 §2.3: a confidential client authenticates with HTTP Basic or with `client_secret` in
 * the body, never both; a public client only names itself with `client_id`.
 */
export async function authenticateClient(
  services: Services,
  tenant: Tenant,
  params: Readonly<Record<string, string>>,
  authorization: string | undefined,
  options?: { confidentialOnly?: boolean },
): Promise<Client> {
  const basic =
    authorization !== undefined && /^basic /i.test(authorization) ? parseBasic(authorization) : undefined
  if (basic && params.client_secret !== undefined)
    throw new InvalidRequest('use one client authentication method, not two')
  if (basic && params.client_id !== undefined && params.client_id !== basic.clientId) {
    throw new InvalidRequest('client_id differs from the authenticated client')
  }
  const clientId = basic?.clientId ?? params.client_id
  if (!clientId) throw new InvalidClient('client authentication is required', { basicChallenge: true })
  const secret = basic?.secret ?? params.client_secret
  const client = await services.clients.find(tenant.id, clientId)
  if (!client)
    throw new InvalidClient('client authentication failed', { basicChallenge: basic !== undefined })
  if (client.type === 'confidential') {
    if (secret === undefined || !services.clients.verifySecret(client, secret)) {
      throw new InvalidClient('client authentication failed', { basicChallenge: basic !== undefined })
    }
  } else {
    if (secret !== undefined) throw new InvalidClient('public clients have no secret')
    if (options?.confidentialOnly) throw new InvalidClient('this endpoint is for confidential clients')
  }
  return client
}

function parseBasic(authorization: string): { clientId: string; secret: string } {
  const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon === -1) throw new InvalidClient('malformed Basic credentials', { basicChallenge: true })
  try {
    // RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
    return {
      clientId: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')),
      secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')),
    }
  } catch {
    throw new InvalidClient('malformed Basic credentials', { basicChallenge: true })
  }
}
