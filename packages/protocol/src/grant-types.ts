/** Grant types accepted at a tenant's token endpoint. */
export const GrantType = {
  anonymous: 'urn:onramp:params:oauth:grant-type:anonymous',
  refreshToken: 'refresh_token',
  tokenExchange: 'urn:ietf:params:oauth:grant-type:token-exchange',
  authorizationCode: 'authorization_code',
  clientCredentials: 'client_credentials',
} as const

export type GrantType = (typeof GrantType)[keyof typeof GrantType]
