import { anonymousGrant } from './anonymous.ts'
import { authorizationCodeGrant } from './authorization-code.ts'
import { clientCredentialsGrant } from './client-credentials.ts'
import type { GrantHandler } from './grant-handler.ts'
import { refreshTokenGrant } from './refresh-token.ts'
import { tokenExchangeGrant } from './token-exchange.ts'

/** The grant types `/token` serves, by name. */
export const grantHandlers: ReadonlyMap<string, GrantHandler> = new Map(
  [anonymousGrant, refreshTokenGrant, tokenExchangeGrant, clientCredentialsGrant, authorizationCodeGrant].map(
    (g) => [g.grantType, g],
  ),
)

export type { GrantHandler, TokenRequest } from './grant-handler.ts'
