export { MemoryReplayCache } from './dpop/memory-replay-cache.ts'
export type { ReplayCache } from './dpop/replay-cache.ts'
export type {
  DecryptedPayload,
  EncryptionJWK,
  EncryptionJWKS,
  EncryptionKeyInput,
  EncryptionOptions,
  PrivateJWK,
} from './encryption/payload-encryption.ts'
export type { AuthenticationScheme } from './http/challenge.ts'
export type { CORSOptions } from './http/cors.ts'
export type { RequestURLOptions } from './http/request-url.ts'
export type {
  OnrampExpressMiddleware,
  OnrampExpressOptions,
} from './integrations/express-middleware.ts'
export { onrampExpress } from './integrations/express-middleware.ts'
export type { OnrampFastifyOptions, OnrampRouteOptions } from './integrations/fastify-plugin.ts'
export { onrampResource } from './integrations/fastify-plugin.ts'
export type { ResourceErrorBody, ResourceErrorCode, ResourceErrorStatus } from './resource-error.ts'
export { ResourceError, ResourceErrorCodes } from './resource-error.ts'
export type {
  Authentication,
  AuthenticationInput,
  ResourceVerifierOptions,
  VerifiedAccess,
  VerifiedRequest,
} from './resource-verifier.ts'
export { createResourceVerifier, ResourceVerifier } from './resource-verifier.ts'
