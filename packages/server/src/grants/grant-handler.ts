import type { TokenResponse } from '@onramp/protocol'
import type { Services } from '../domain/services.ts'
import type { VerifiedDPoPProof } from '../dpop/dpop-verifier.ts'
import type { Client } from '../store/client-store.ts'
import type { Tenant } from '../store/tenant-store.ts'

/** A token request after client authentication and DPoP proof verification, free of HTTP. */
export interface TokenRequest {
  tenant: Tenant
  client: Client
  params: Readonly<Record<string, string>>
  /** The verified DPoP proof, when the request carried one. */
  dpop: VerifiedDPoPProof | undefined
  clientIP: string
}

/** One grant type: its name, the parameters it reads and what it does (node-oidc-provider's shape). */
export interface GrantHandler {
  grantType: string
  parameters: readonly string[]
  handle(request: TokenRequest, services: Services): Promise<TokenResponse>
}
