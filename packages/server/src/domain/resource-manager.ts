import { isAuthenticationMode } from '@onramp/protocol'
import { hashSecret, randomToken, secretMatchesHash } from '../crypto/secrets.ts'
import { AppError } from '../errors/app-error.ts'
import type { ExchangePolicy, Resource } from '../store/resource-store.ts'
import type { Store } from '../store/stores.ts'
import { validateScopes } from './client-manager.ts'
import type { Clock } from './clock.ts'
import { TTLCache } from './ttl-cache.ts'

export interface ResourceInput {
  audience: string
  name?: string
  scopes?: string[]
  policy?: Partial<ExchangePolicy>
  accessTokenTtl?: number
}

export type ResourceUpdate = Partial<Omit<ResourceInput, 'audience'>>

/** Backends that accept exchanged tokens, each with the policy that says who may get one. */
export class ResourceManager {
  readonly #store: Store
  readonly #clock: Clock
  readonly #cache = new TTLCache<Resource | undefined>({ ttlMilliseconds: 5000 })

  constructor(options: { store: Store; clock: Clock }) {
    this.#store = options.store
    this.#clock = options.clock
  }

  /** The resource for a request, from a short-lived cache. */
  find(tenantId: string, audience: string): Promise<Resource | undefined> {
    // Audiences no resource can have (NUL bytes break PostgreSQL) are unknown without a query.
    if (!isAudience(audience)) return Promise.resolve(undefined)
    return this.#cache.get(`${tenantId}\n${audience}`, () => this.#store.resources.get(tenantId, audience))
  }

  async get(tenantId: string, audience: string): Promise<Resource> {
    const resource = await this.#store.resources.get(tenantId, audience)
    if (!resource) throw new AppError('not_found', `resource "${audience}" does not exist`)
    return resource
  }

  list(tenantId: string): Promise<Resource[]> {
    return this.#store.resources.list(tenantId)
  }

  async create(tenantId: string, input: ResourceInput): Promise<Resource> {
    if (!isAudience(input.audience)) {
      throw new AppError(
        'invalid_input',
        'audience must be 1–512 characters without spaces or control characters',
      )
    }
    const resource: Resource = {
      tenantId,
      audience: input.audience,
      name: input.name ?? input.audience,
      scopes: validateScopes(input.scopes ?? []),
      policy: validatePolicy({ allowedClients: [], allowAnonymous: false, ...input.policy }),
      accessTokenTtl: validateTtl(input.accessTokenTtl),
      secretHash: undefined,
      createdAt: this.#clock.now(),
    }
    await this.#store.transaction(async (stores) => {
      if (!(await stores.tenants.get(tenantId)))
        throw new AppError('not_found', `tenant "${tenantId}" does not exist`)
      if (await stores.resources.get(tenantId, resource.audience))
        throw new AppError('conflict', `resource "${resource.audience}" already exists`)
      await stores.resources.create(resource)
    })
    this.#cache.delete(`${tenantId}\n${resource.audience}`)
    return resource
  }

  async update(tenantId: string, audience: string, update: ResourceUpdate): Promise<Resource> {
    const resource = await this.get(tenantId, audience)
    const patch = {
      ...(update.name !== undefined && { name: update.name }),
      ...(update.scopes !== undefined && { scopes: validateScopes(update.scopes) }),
      ...(update.policy !== undefined && {
        policy: validatePolicy({ ...resource.policy, ...update.policy }),
      }),
      ...('accessTokenTtl' in update && { accessTokenTtl: validateTtl(update.accessTokenTtl) }),
    }
    await this.#store.resources.update(tenantId, audience, patch)
    this.#cache.delete(`${tenantId}\n${audience}`)
    return { ...resource, ...patch }
  }

  /**
   * Gives the resource a new secret, with which it calls `/introspect` (its audience as the
   * client id); returned only here, and the old one stops working at once.
   */
  async rotateSecret(tenantId: string, audience: string): Promise<string> {
    const secret = randomToken()
    await this.#setSecretHash(tenantId, audience, hashSecret(secret))
    return secret
  }

  /** Takes the resource's secret away: it can no longer call `/introspect`. */
  removeSecret(tenantId: string, audience: string): Promise<void> {
    return this.#setSecretHash(tenantId, audience, undefined)
  }

  async #setSecretHash(tenantId: string, audience: string, secretHash: string | undefined): Promise<void> {
    if (!(await this.#store.resources.update(tenantId, audience, { secretHash })))
      throw new AppError('not_found', `resource "${audience}" does not exist`)
    this.#cache.delete(`${tenantId}\n${audience}`)
  }

  /** The resource, if `secret` is its secret. */
  async authenticate(tenantId: string, audience: string, secret: string): Promise<Resource | undefined> {
    const resource = await this.find(tenantId, audience)
    return resource?.secretHash !== undefined && secretMatchesHash(secret, resource.secretHash)
      ? resource
      : undefined
  }

  async delete(tenantId: string, audience: string): Promise<void> {
    if (!(await this.#store.resources.delete(tenantId, audience)))
      throw new AppError('not_found', `resource "${audience}" does not exist`)
    this.#cache.delete(`${tenantId}\n${audience}`)
  }
}

function isAudience(value: unknown): value is string {
  return typeof value === 'string' && /^[^\s\p{Cc}]{1,512}$/u.test(value)
}

function validatePolicy(policy: ExchangePolicy): ExchangePolicy {
  if (!Array.isArray(policy.allowedClients) || policy.allowedClients.some((c) => typeof c !== 'string')) {
    throw new AppError('invalid_input', 'policy.allowedClients must be a list of client ids')
  }
  if (typeof policy.allowAnonymous !== 'boolean')
    throw new AppError('invalid_input', 'policy.allowAnonymous must be a boolean')
  if (policy.minAcr !== undefined && !/^\d+$/.test(policy.minAcr))
    throw new AppError('invalid_input', 'policy.minAcr must be a level like "0" or "1"')
  if (policy.authenticationModes !== undefined) {
    if (
      !Array.isArray(policy.authenticationModes) ||
      !policy.authenticationModes.every(isAuthenticationMode)
    ) {
      throw new AppError(
        'invalid_input',
        'policy.authenticationModes must list modes among no, password, biometric',
      )
    }
  }
  return {
    allowedClients: policy.allowedClients,
    allowAnonymous: policy.allowAnonymous,
    ...(policy.minAcr !== undefined && { minAcr: policy.minAcr }),
    ...(policy.authenticationModes !== undefined && { authenticationModes: policy.authenticationModes }),
  }
}

function validateTtl(ttl: number | undefined): number | undefined {
  if (ttl === undefined) return undefined
  if (!Number.isInteger(ttl) || ttl <= 0 || ttl > 86400)
    throw new AppError('invalid_input', 'accessTokenTtl must be 1–86400 seconds')
  return ttl
}
