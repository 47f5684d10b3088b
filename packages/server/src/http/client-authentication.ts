import type { Services } from '../domain/services.ts'
import { InvalidClient, InvalidRequest } from '../errors/oauth-error.ts'
import type { Client } from '../store/client-store.ts'
import type { Resource } from '../store/resource-store.ts'
import type { Tenant } from '../store/tenant-store.ts'

export type ClientAuthMethod = 'none' | 'client_secret_basic' | 'client_secret_post'

export const clientAuthMethods: readonly ClientAuthMethod[] = [
  'none',
  'client_secret_basic',
  'client_secret_post',
]

/** The credentials a request presents (RFC 6749 §2.3): HTTP Basic, or `client_id` and `client_secret` in the body. */
interface Credentials {
  clientId: string
  secret: string | undefined
  basic: boolean
}

function credentialsOf(
  params: Readonly<Record<string, string>>,
  authorization: string | undefined,
): Credentials {
  const basic =
    authorization !== undefined && /^basic /i.test(authorization) ? parseBasic(authorization) : undefined
  if (basic && params.client_secret !== undefined)
    throw new InvalidRequest('use one client authentication method, not two')
  if (basic && params.client_id !== undefined && params.client_id !== basic.clientId) {
    throw new InvalidRequest('client_id differs from the authenticated client')
  }
  const clientId = basic?.clientId ?? params.client_id
  if (!clientId) throw new InvalidClient('client authentication is required', { basicChallenge: true })
  return { clientId, secret: basic?.secret ?? params.client_secret, basic: basic !== undefined }
}

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
  const credentials = credentialsOf(params, authorization)
  const client = await services.clients.find(tenant.id, credentials.clientId)
  if (!client) throw failed(credentials)
  return checkClient(services, client, credentials, options)
}

/**
 * RFC 7662 §2.1: who calls `/introspect` — a confidential client, or a resource server with its
 * secret, its audience standing for the client id.
 */
export async function authenticateIntrospector(
  services: Services,
  tenant: Tenant,
  params: Readonly<Record<string, string>>,
  authorization: string | undefined,
): Promise<{ client: Client } | { resource: Resource }> {
  const credentials = credentialsOf(params, authorization)
  const client = await services.clients.find(tenant.id, credentials.clientId)
  if (client) return { client: checkClient(services, client, credentials, { confidentialOnly: true }) }
  const resource =
    credentials.secret === undefined
      ? undefined
      : await services.resources.authenticate(tenant.id, credentials.clientId, credentials.secret)
  if (!resource) throw failed(credentials)
  return { resource }
}

function checkClient(
  services: Services,
  client: Client,
  credentials: Credentials,
  options?: { confidentialOnly?: boolean },
): Client {
  const { secret } = credentials
  if (client.type === 'confidential') {
    if (secret === undefined || !services.clients.verifySecret(client, secret)) throw failed(credentials)
  } else {
    if (secret !== undefined) throw new InvalidClient('public clients have no secret')
    if (options?.confidentialOnly) throw new InvalidClient('this endpoint is for confidential clients')
  }
  return client
}

function failed(credentials: Credentials): InvalidClient {
  return new InvalidClient('client authentication failed', { basicChallenge: credentials.basic })
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
