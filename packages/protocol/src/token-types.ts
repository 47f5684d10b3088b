/** RFC 8693 §3 token type identifiers. */
export const TokenType = {
  accessToken: 'urn:ietf:params:oauth:token-type:access_token',
  refreshToken: 'urn:ietf:params:oauth:token-type:refresh_token',
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
} as const

export type TokenType = (typeof TokenType)[keyof typeof TokenType]
