import { isJWSAlgorithm, type JWSAlgorithm, normalizeHTU, sha256Base64url } from '@onramp/crypto'
import { type AccessTokenClaims, AnonymousACR } from '@onramp/protocol'
import { DPoPNonces } from './dpop/dpop-nonces.ts'
import { type DPoPProofClaims, DPoPProofVerifier } from './dpop/dpop-proof-verifier.ts'
import { MemoryReplayCache } from './dpop/memory-replay-cache.ts'
import type { ReplayCache } from './dpop/replay-cache.ts'
import {
  type DecryptedPayload,
  type EncryptionJWKS,
  type EncryptionOptions,
  joseMediaType,
  PayloadEncryption,
} from './encryption/payload-encryption.ts'
import { parseResponseKey, type ResponseKey, responseKeyHeader } from './encryption/response-key.ts'
import { parseAuthorization } from './http/authorization.ts'
import { type AuthenticationScheme, type ChallengeOptions, Challenger } from './http/challenge.ts'
import { isJOSE } from './http/content-type.ts'
import { RequestURLResolver } from './http/request-url.ts'
import { Refusal } from './refusal.ts'
import type { ResourceError } from './resource-error.ts'
import { AccessTokenVerifier } from './token/access-token-verifier.ts'
import { JWKSCache } from './token/jwks-cache.ts'

export interface ResourceVerifierOptions {
  /** The tenant's issuer, `{ONRAMP_PUBLIC_URL}/t/{tenant}`, compared exactly with `iss`. */
  issuer: string
  /** This resource's audience, or several accepted ones. */
  audience: string | readonly string[]
  /** Where the issuer's signing keys are; `{issuer}/jwks` by default. */
  jwksUri?: string
  /** Scopes every request needs. */
  requiredScopes?: readonly string[]
  /** Accepted access token algorithms; `['ES256']`, what Onramp issues, by default. */
  algorithms?: readonly JWSAlgorithm[]
  /** Seconds of clock skew allowed for `exp`, `nbf`, `iat` and the proof's `iat`; 5 by default. */
  clockTolerance?: number
  /** Seconds a DPoP proof is accepted after its `iat`; 60 by default. */
  dpopMaxAge?: number
  /** Refuse tokens that are not DPoP-bound. */
  requireDPoP?: boolean
  /** Where proof `jti`s are remembered; in memory by default (one process only). */
  replayCache?: ReplayCache
  /** Require DPoP server nonces (RFC 9449 §9), made statelessly with this secret (≥ 32 bytes). */
  dpopNonce?: { secret: Uint8Array }
  /** The external base URL of this backend, for the proof's `htu`. */
  publicUrl?: string
  /** Take scheme and host for `htu` from `Forwarded` / `X-Forwarded-*` (behind a trusted proxy only). */
  trustProxy?: boolean
  /** Enables end-to-end payload encryption with this EC P-256 key. */
  encryption?: EncryptionOptions
}

/** What a verified request may do and on whose behalf: `request.onramp` in the integrations. */
export interface VerifiedAccess {
  claims: AccessTokenClaims
  scheme: AuthenticationScheme
  /** The token's scopes. */
  scopes: readonly string[]
  /** The thumbprint of the key the token is bound to (DPoP). */
  jkt: string | undefined
  /** An anonymous subject (`acr` "0" or `amr` "anon"): it carries no personal data. */
  isAnonymous: boolean
}

/** The outcome of `authenticate`: the access, and what the proof bound the rest of the request to. */
export interface Authentication {
  access: VerifiedAccess
  /** The client's key for an encrypted response, when it asked for one. */
  responseKey: ResponseKey | undefined
  /** The proof's `ebh`: the hash of the encrypted body it was made for. */
  bodyHash: string | undefined
}

/** A request in framework-neutral form. */
export interface AuthenticationInput {
  method: string
  /** The URL the client called, absolute (see `publicUrl` and `trustProxy`). */
  url: string
  authorization: string | undefined
  /** The `DPoP` header; several headers joined with a comma are refused. */
  dpop: string | undefined
  /** The `Onramp-Response-Key` header. */
  responseKey?: string | undefined
  /** Scopes this request needs on top of `requiredScopes`. */
  requiredScopes?: readonly string[] | undefined
}

export interface VerifiedRequest {
  access: VerifiedAccess
  /** The request to read the body from: the decrypted one when it came encrypted, else the original. */
  request: Request
  /** Encrypts the response when the client asked for it (`Onramp-Response-Key`); else returns it as is. */
  encryptResponse(response: Response): Promise<Response>
}

/** Verifies Onramp access tokens and DPoP proofs for one resource; one per backend, shared by its requests. */
export class ResourceVerifier {
  readonly #tokens: AccessTokenVerifier
  readonly #proofs: DPoPProofVerifier
  readonly #challenger: Challenger
  readonly #requestURL: RequestURLResolver
  readonly #requiredScopes: readonly string[]
  readonly #requireDPoP: boolean
  readonly #encryption: PayloadEncryption | undefined

  constructor(options: ResourceVerifierOptions) {
    if (typeof options.issuer !== 'string' || !URL.canParse(options.issuer)) {
      throw new TypeError('issuer must be an absolute URL')
    }
    const audiences =
      typeof options.audience === 'string' ? [options.audience] : [...(options.audience ?? [])]
    if (audiences.length === 0 || audiences.some((a) => typeof a !== 'string' || a === '')) {
      throw new TypeError('audience must be a non-empty string or array of strings')
    }
    const algorithms = options.algorithms ?? ['ES256']
    if (algorithms.length === 0 || !algorithms.every(isJWSAlgorithm)) {
      throw new TypeError('algorithms must be asymmetric JWS algorithms')
    }
    const clockTolerance = options.clockTolerance ?? 5
    const dpopMaxAge = options.dpopMaxAge ?? 60
    if (!(clockTolerance >= 0) || !(dpopMaxAge > 0)) {
      throw new TypeError('clockTolerance and dpopMaxAge must be positive numbers of seconds')
    }
    this.#tokens = new AccessTokenVerifier({
      issuer: options.issuer,
      audiences,
      algorithms,
      clockTolerance,
      keys: new JWKSCache(options.jwksUri ?? `${options.issuer.replace(/\/+$/, '')}/jwks`),
    })
    this.#proofs = new DPoPProofVerifier({
      maxAge: dpopMaxAge,
      clockTolerance,
      replayCache: options.replayCache ?? new MemoryReplayCache(),
      nonces: options.dpopNonce ? new DPoPNonces(options.dpopNonce.secret) : undefined,
    })
    this.#requireDPoP = options.requireDPoP === true
    this.#challenger = new Challenger({ requireDPoP: this.#requireDPoP })
    this.#requestURL = new RequestURLResolver(options)
    this.#requiredScopes = options.requiredScopes ?? []
    this.#encryption = options.encryption ? new PayloadEncryption(options.encryption) : undefined
  }

  /** Whether payload encryption is configured. */
  get hasEncryption(): boolean {
    return this.#encryption !== undefined
  }

  /** The public encryption key set to publish; throws when encryption is not configured. */
  encryptionJWKS(): EncryptionJWKS {
    if (!this.#encryption) throw new TypeError('payload encryption is not configured')
    return this.#encryption.jwks
  }

  /** The URL option resolver, for integrations that know the request's origin and path. */
  get requestURL(): RequestURLResolver {
    return this.#requestURL
  }

  /** Checks the token, its DPoP proof and scopes; throws a `ResourceError` for the client. */
  async authenticate(input: AuthenticationInput): Promise<Authentication> {
    const now = Math.floor(Date.now() / 1000)
    const credentials = parseAuthorization(input.authorization)
    if (!credentials) {
      throw this.#refuse('invalid_token', 'an access token is required', { hasCredentials: false })
    }
    const { scheme, token } = credentials
    if (token === undefined)
      throw this.#refuse('invalid_token', 'the Authorization header is malformed', { scheme })
    let claims: AccessTokenClaims
    try {
      claims = await this.#tokens.verify(token, now)
    } catch (error) {
      throw this.#fromRefusal(error, scheme)
    }

    const jkt = claims.cnf?.jkt
    let proof: DPoPProofClaims | undefined
    if (jkt === undefined) {
      if (this.#requireDPoP)
        throw this.#refuse('invalid_token', 'a DPoP-bound access token is required', { scheme })
      if (scheme === 'DPoP') {
        throw this.#refuse('invalid_token', 'the access token is not DPoP-bound: use Bearer', {
          scheme: 'Bearer',
        })
      }
    } else {
      if (scheme !== 'DPoP') {
        throw this.#refuse('invalid_token', 'the access token is DPoP-bound: use the DPoP scheme', {
          scheme: 'DPoP',
        })
      }
      proof = await this.#verifyProof(input, token, jkt, now)
    }

    const scopes = claims.scope ? claims.scope.split(' ').filter(Boolean) : []
    const required = input.requiredScopes?.length
      ? [...this.#requiredScopes, ...input.requiredScopes]
      : this.#requiredScopes
    this.#requireScopes(scopes, required, scheme)

    const bodyHash = proof?.ebh
    if (bodyHash !== undefined && typeof bodyHash !== 'string') {
      throw this.#refuse('invalid_dpop_proof', 'ebh must be a string', { scheme })
    }
    return {
      access: {
        claims,
        scheme,
        scopes,
        jkt,
        isAnonymous: claims.acr === AnonymousACR || claims.amr?.includes('anon') === true,
      },
      responseKey: this.#responseKey(input.responseKey, proof, scheme),
      bodyHash,
    }
  }

  /** Refuses (403 `insufficient_scope`) access that lacks any of `required`: for checks after `authenticate`. */
  requireScopes(access: VerifiedAccess, required: readonly string[]): void {
    this.#requireScopes(access.scopes, required, access.scheme)
  }

  /**
   * Decrypts an encrypted (`application/jose`) request body after `authenticate`, checking the
   * proof's `ebh`. With `undefined` (the body is not encrypted) it only checks that the proof did
   * not promise an encrypted one.
   */
  async decryptBody(
    authentication: Authentication,
    body: string | undefined,
  ): Promise<DecryptedPayload | undefined> {
    const { scheme } = authentication.access
    if (body === undefined) {
      if (authentication.bodyHash !== undefined) {
        throw this.#refuse(
          'invalid_dpop_proof',
          'the DPoP proof names an encrypted body (ebh) the request lacks',
          {
            scheme,
          },
        )
      }
      return undefined
    }
    if (!this.#encryption)
      throw this.#refuse('invalid_request', 'payload encryption is not enabled', { scheme })
    if (scheme === 'DPoP' && authentication.bodyHash !== sha256Base64url(body)) {
      throw this.#refuse('invalid_dpop_proof', 'ebh does not match the encrypted body', { scheme })
    }
    try {
      return await this.#encryption.decrypt(body)
    } catch (error) {
      throw this.#fromRefusal(error, scheme)
    }
  }

  /** The body as a compact JWE to the client's response key, or undefined when it asked for none (or it is empty). */
  async encryptBody(
    authentication: Authentication,
    plaintext: Uint8Array,
    contentType: string,
  ): Promise<string | undefined> {
    if (!authentication.responseKey || !this.#encryption || plaintext.length === 0) return undefined
    return this.#encryption.encrypt(plaintext, contentType, authentication.responseKey)
  }

  /** `authenticate` for a WHATWG `Request`, with decryption of the body and encryption of the response. */
  async verifyRequest(
    request: Request,
    options?: { requiredScopes?: readonly string[] },
  ): Promise<VerifiedRequest> {
    const { headers } = request
    const authentication = await this.authenticate({
      method: request.method,
      url: this.#urlOf(request),
      authorization: headers.get('authorization') ?? undefined,
      dpop: headers.get('dpop') ?? undefined,
      responseKey: headers.get(responseKeyHeader) ?? undefined,
      requiredScopes: options?.requiredScopes,
    })
    let plainRequest = request
    if (this.#encryption && isJOSE(headers.get('content-type')) && request.body !== null) {
      const decrypted = (await this.decryptBody(authentication, await request.text()))!
      const plainHeaders = new Headers(headers)
      plainHeaders.set('content-type', decrypted.contentType)
      plainHeaders.delete('content-length')
      plainRequest = new Request(request.url, {
        method: request.method,
        headers: plainHeaders,
        body: decrypted.plaintext as Uint8Array<ArrayBuffer>,
        signal: request.signal,
      })
    } else {
      await this.decryptBody(authentication, undefined)
    }
    return {
      access: authentication.access,
      request: plainRequest,
      encryptResponse: (response) => this.#encryptResponse(authentication, response),
    }
  }

  #requireScopes(
    granted: readonly string[],
    required: readonly string[],
    scheme: AuthenticationScheme,
  ): void {
    const missing = required.filter((scope) => !granted.includes(scope))
    if (missing.length > 0) {
      throw this.#refuse('insufficient_scope', `the access token lacks scope ${missing.join(' ')}`, {
        scheme,
        scope: required,
      })
    }
  }

  async #verifyProof(
    input: AuthenticationInput,
    token: string,
    jkt: string,
    now: number,
  ): Promise<DPoPProofClaims> {
    const proof = input.dpop
    if (!proof) throw this.#refuse('invalid_dpop_proof', 'a DPoP proof is required', { scheme: 'DPoP' })
    if (proof.includes(','))
      throw this.#refuse('invalid_dpop_proof', 'send exactly one DPoP header', { scheme: 'DPoP' })
    const url = normalizeHTU(input.url)
    if (url === undefined) throw new TypeError(`the request URL is not absolute: ${input.url}`)
    try {
      return await this.#proofs.verify(proof, { method: input.method, url, accessToken: token, jkt, now })
    } catch (error) {
      throw this.#fromRefusal(error, 'DPoP')
    }
  }

  #responseKey(
    header: string | undefined,
    proof: DPoPProofClaims | undefined,
    scheme: AuthenticationScheme,
  ): ResponseKey | undefined {
    if (header === undefined) {
      if (proof?.rkt !== undefined) {
        throw this.#refuse(
          'invalid_dpop_proof',
          'the DPoP proof names a response key (rkt) the request lacks',
          {
            scheme,
          },
        )
      }
      return undefined
    }
    if (!this.#encryption)
      throw this.#refuse('invalid_request', 'payload encryption is not enabled', { scheme })
    let key: ResponseKey
    try {
      key = parseResponseKey(header)
    } catch (error) {
      throw this.#fromRefusal(error, scheme)
    }
    if (proof && proof.rkt !== key.thumbprint) {
      throw this.#refuse('invalid_dpop_proof', 'rkt does not match Onramp-Response-Key', { scheme })
    }
    return key
  }

  async #encryptResponse(authentication: Authentication, response: Response): Promise<Response> {
    if (!authentication.responseKey || response.body === null) return response
    const plaintext = new Uint8Array(await response.arrayBuffer())
    const contentType = response.headers.get('content-type') ?? 'application/octet-stream'
    const jwe = await this.encryptBody(authentication, plaintext, contentType)
    const headers = new Headers(response.headers)
    headers.delete('content-length')
    if (jwe !== undefined) headers.set('content-type', joseMediaType)
    return new Response(jwe ?? null, { status: response.status, statusText: response.statusText, headers })
  }

  #urlOf(request: Request): string {
    const url = new URL(request.url)
    return this.#requestURL.url({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      header: (name) => request.headers.get(name) ?? undefined,
    })
  }

  #refuse(code: ResourceError['code'], description: string, options: ChallengeOptions): ResourceError {
    return this.#challenger.refuse(code, description, options)
  }

  /** Maps a failed check to the client's error; anything else is a bug and stays as it is. */
  #fromRefusal(error: unknown, scheme: AuthenticationScheme): unknown {
    if (!(error instanceof Refusal)) return error
    return this.#challenger.refuse(error.code, error.message, {
      scheme,
      ...(error.nonce !== undefined && { nonce: error.nonce }),
    })
  }
}

/** Creates the verifier a backend keeps for its lifetime (it holds the key and replay caches). */
export function createResourceVerifier(options: ResourceVerifierOptions): ResourceVerifier {
  return new ResourceVerifier(options)
}
