import type { AuthenticationMode } from '@onramp/protocol'

/** Who may exchange a token for this resource's audience (RFC 8693). */
export interface ExchangePolicy {
  /** Client ids allowed to exchange; empty means none. */
  allowedClients: string[]
  allowAnonymous: boolean
  /** Lowest `acr` accepted, compared numerically ("0" anonymous, "1" signed in, …). */
  minAcr?: string
  /** Device authentication modes accepted for anonymous subjects; unset accepts all. */
  authenticationModes?: AuthenticationMode[]
}

export interface Resource {
  tenantId: string
  audience: string
  name: string
  /** Scopes the resource defines; an exchange may request a subset. */
  scopes: string[]
  policy: ExchangePolicy
  accessTokenTtl: number | undefined
  /** Hash of the secret with which the resource calls `/introspect`; undefined when it has none. */
  secretHash: string | undefined
  createdAt: number
}

export type ResourcePatch = Partial<
  Pick<Resource, 'name' | 'scopes' | 'policy' | 'accessTokenTtl' | 'secretHash'>
>

export interface ResourceStore {
  get(tenantId: string, audience: string): Promise<Resource | undefined>
  list(tenantId: string): Promise<Resource[]>
  create(resource: Resource): Promise<void>
  update(tenantId: string, audience: string, patch: ResourcePatch): Promise<boolean>
  delete(tenantId: string, audience: string): Promise<boolean>
}
