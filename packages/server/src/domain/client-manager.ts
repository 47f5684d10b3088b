import { GrantType } from '@onramp/protocol'
import { hashSecret, randomToken, secretMatchesHash } from '../crypto/secrets.ts'
import { AppError } from '../errors/app-error.ts'
import type { AppVersionPolicy, Client } from '../store/client-store.ts'
import type { Store } from '../store/stores.ts'
import type { Clock } from './clock.ts'
import { TTLCache } from './ttl-cache.ts'

export interface ClientInput {
  clientId: string
  name?: string
  type: 'public' | 'confidential'
  grantTypes?: string[]
  scopes?: string[]
  redirectUris?: string[]
  webOrigins?: string[]
  appPolicy?: AppVersionPolicy
  /** Defaults to true; see `Client.pkceRequired`. */
  pkceRequired?: boolean
}

export type ClientUpdate = Partial<Omit<ClientInput, 'clientId' | 'type'>>

const clientIdPattern = /^[A-Za-z0-9._~-]{1,128}$/
const scopeTokenPattern = /^[\x21\x23-\x5B\x5D-\x7E]+$/
const grantTypesFor = {
  public: [GrantType.anonymous, GrantType.refreshToken, GrantType.tokenExchange, GrantType.authorizationCode],
  confidential: Object.values(GrantType),
} as const

export class ClientManager {
  readonly #store: Store
  readonly #clock: Clock
  readonly #cache = new TTLCache<Client | undefined>({ ttlMilliseconds: 5000 })
  readonly #webOrigins = new TTLCache<ReadonlySet<string>>({ ttlMilliseconds: 5000 })

  constructor(options: { store: Store; clock: Clock }) {
    this.#store = options.store
    this.#clock = options.clock
  }

  /** The client for a request, from a short-lived cache. */
  find(tenantId: string, clientId: string): Promise<Client | undefined> {
    // Ids no client can have (NUL bytes break PostgreSQL) are unknown without a query.
    if (!clientIdPattern.test(clientId)) return Promise.resolve(undefined)
    return this.#cache.get(`${tenantId}\n${clientId}`, () => this.#store.clients.get(tenantId, clientId))
  }

  async get(tenantId: string, clientId: string): Promise<Client> {
    const client = await this.#store.clients.get(tenantId, clientId)
    if (!client) throw new AppError('not_found', `client "${clientId}" does not exist`)
    return client
  }

  list(tenantId: string): Promise<Client[]> {
    return this.#store.clients.list(tenantId)
  }

  /** Creates a client; a confidential one gets a secret, returned only here. */
  async create(tenantId: string, input: ClientInput): Promise<{ client: Client; clientSecret?: string }> {
    if (!clientIdPattern.test(input.clientId))
      throw new AppError('invalid_input', 'client_id must be 1–128 URL-safe characters')
    if (input.type !== 'public' && input.type !== 'confidential')
      throw new AppError('invalid_input', 'type must be public or confidential')
    const clientSecret = input.type === 'confidential' ? randomToken() : undefined
    const client: Client = {
      tenantId,
      clientId: input.clientId,
      name: input.name ?? input.clientId,
      type: input.type,
      secretHash: clientSecret && hashSecret(clientSecret),
      grantTypes: validateGrantTypes(input.type, input.grantTypes ?? defaultGrantTypes(input.type)),
      scopes: validateScopes(input.scopes ?? []),
      redirectUris: validateRedirectUris(input.redirectUris ?? []),
      webOrigins: validateWebOrigins(input.webOrigins ?? []),
      appPolicy: input.appPolicy,
      pkceRequired: input.pkceRequired ?? true,
      createdAt: this.#clock.now(),
    }
    await this.#store.transaction(async (stores) => {
      if (!(await stores.tenants.get(tenantId)))
        throw new AppError('not_found', `tenant "${tenantId}" does not exist`)
      if (await stores.clients.get(tenantId, client.clientId))
        throw new AppError('conflict', `client "${client.clientId}" already exists`)
      await stores.clients.create(client)
    })
    this.#forget(tenantId, client.clientId)
    return clientSecret ? { client, clientSecret } : { client }
  }

  async update(tenantId: string, clientId: string, update: ClientUpdate): Promise<Client> {
    const client = await this.get(tenantId, clientId)
    const patch = {
      ...(update.name !== undefined && { name: update.name }),
      ...(update.grantTypes !== undefined && {
        grantTypes: validateGrantTypes(client.type, update.grantTypes),
      }),
      ...(update.scopes !== undefined && { scopes: validateScopes(update.scopes) }),
      ...(update.redirectUris !== undefined && { redirectUris: validateRedirectUris(update.redirectUris) }),
      ...(update.webOrigins !== undefined && { webOrigins: validateWebOrigins(update.webOrigins) }),
      ...('appPolicy' in update && { appPolicy: update.appPolicy }),
      ...(update.pkceRequired !== undefined && { pkceRequired: update.pkceRequired }),
    }
    await this.#store.clients.update(tenantId, clientId, patch)
    this.#forget(tenantId, clientId)
    return { ...client, ...patch }
  }

  async rotateSecret(tenantId: string, clientId: string): Promise<string> {
    const client = await this.get(tenantId, clientId)
    if (client.type !== 'confidential') throw new AppError('invalid_input', 'public clients have no secret')
    const clientSecret = randomToken()
    await this.#store.clients.update(tenantId, clientId, { secretHash: hashSecret(clientSecret) })
    this.#forget(tenantId, clientId)
    return clientSecret
  }

  async delete(tenantId: string, clientId: string): Promise<void> {
    if (!(await this.#store.clients.delete(tenantId, clientId)))
      throw new AppError('not_found', `client "${clientId}" does not exist`)
    this.#forget(tenantId, clientId)
  }

  /** Whether a page of `origin` may call the tenant's endpoints: some client lists it among its web origins. */
  async isWebOriginAllowed(tenantId: string, origin: string): Promise<boolean> {
    const origins = await this.#webOrigins.get(tenantId, async () => {
      const clients = await this.#store.clients.list(tenantId)
      return new Set(clients.flatMap((client) => client.webOrigins))
    })
    return origins.has(origin)
  }

  verifySecret(client: Client, secret: string): boolean {
    return client.secretHash !== undefined && secretMatchesHash(secret, client.secretHash)
  }

  #forget(tenantId: string, clientId: string): void {
    this.#cache.delete(`${tenantId}\n${clientId}`)
    this.#webOrigins.delete(tenantId)
  }
}

function defaultGrantTypes(type: 'public' | 'confidential'): string[] {
  return type === 'public'
    ? [GrantType.anonymous, GrantType.refreshToken, GrantType.tokenExchange]
    : [GrantType.clientCredentials, GrantType.tokenExchange]
}

function validateGrantTypes(type: 'public' | 'confidential', grantTypes: string[]): string[] {
  const allowed: readonly string[] = grantTypesFor[type]
  for (const grantType of grantTypes) {
    if (!allowed.includes(grantType))
      throw new AppError('invalid_input', `grant type "${grantType}" is not available to ${type} clients`)
  }
  return [...new Set(grantTypes)]
}

export function validateScopes(scopes: string[]): string[] {
  for (const scope of scopes) {
    if (typeof scope !== 'string' || !scopeTokenPattern.test(scope))
      throw new AppError('invalid_input', `"${scope}" is not a valid scope`)
  }
  return [...new Set(scopes)]
}

/** Origins as browsers send them: `scheme://host[:port]`, nothing else. */
function validateWebOrigins(origins: string[]): string[] {
  return [
    ...new Set(
      origins.map((origin) => {
        let url: URL | undefined
        try {
          url = new URL(origin)
        } catch {}
        if (!url || !/^https?:$/.test(url.protocol) || url.origin !== origin) {
          throw new AppError(
            'invalid_input',
            `web origin "${origin}" must be scheme://host[:port], like https://app.example.com`,
          )
        }
        return origin
      }),
    ),
  ]
}

function validateRedirectUris(uris: string[]): string[] {
  for (const uri of uris) {
    let url: URL
    try {
      url = new URL(uri)
    } catch {
      throw new AppError('invalid_input', `redirect URI "${uri}" is not an absolute URI`)
    }
    if (url.hash) throw new AppError('invalid_input', `redirect URI "${uri}" must not have a fragment`)
  }
  return uris
}
