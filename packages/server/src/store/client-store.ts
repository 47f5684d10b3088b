export interface AppVersionRange {
  minVersion?: string
  latestVersion?: string
}

/** Which app versions a client accepts (`/app-config`), overall and per platform. */
export interface AppVersionPolicy extends AppVersionRange {
  platforms?: Record<string, AppVersionRange>
}

export interface Client {
  tenantId: string
  clientId: string
  name: string
  type: 'public' | 'confidential'
  secretHash: string | undefined
  grantTypes: string[]
  /** Scopes the client may request. */
  scopes: string[]
  redirectUris: string[]
  /** Origins (`scheme://host[:port]`) whose pages may call the tenant's endpoints (CORS). */
  webOrigins: string[]
  appPolicy: AppVersionPolicy | undefined
  /**
   * Whether authorization requests need PKCE (RFC 7636). Always, unless an administrator exempted
   * the client: Apple's OAuth 2 enrollment client cannot send a code challenge.
   */
  pkceRequired: boolean
  createdAt: number
}

export type ClientPatch = Partial<
  Pick<
    Client,
    | 'name'
    | 'secretHash'
    | 'grantTypes'
    | 'scopes'
    | 'redirectUris'
    | 'webOrigins'
    | 'appPolicy'
    | 'pkceRequired'
  >
>

export interface ClientStore {
  get(tenantId: string, clientId: string): Promise<Client | undefined>
  list(tenantId: string): Promise<Client[]>
  create(client: Client): Promise<void>
  update(tenantId: string, clientId: string, patch: ClientPatch): Promise<boolean>
  delete(tenantId: string, clientId: string): Promise<boolean>
}
