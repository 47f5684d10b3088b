import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { encodeJSON, importPublicJWK, jwkThumbprint, type SigningAlgorithm, signJWS } from '@onramp/crypto'
import type { SecretBox } from '../crypto/secret-box.ts'
import type { SigningKeyRecord, SigningKeyStore } from '../store/signing-key-store.ts'
import type { Stores } from '../store/stores.ts'
import type { Clock } from './clock.ts'

export interface PublicJWK {
  kty: string
  crv: string
  x: string
  /** EC keys only; Ed25519 (OKP) keys have just `x`. */
  y?: string
  kid: string
  alg: string
  use: 'sig'
}

interface TenantKeys {
  loadedAt: number
  /** Reload no sooner than this when asked for an unknown `kid`, so random kids cannot flood the database. */
  reloadAfter: number
  active: { kid: string; alg: SigningAlgorithm; key: KeyObject } | undefined
  verification: Map<string, { alg: string; key: KeyObject }>
  jwks: PublicJWK[]
}

/** Other nodes notice a rotation within this many seconds. */
const cacheSeconds = 30

/**
 * Per-tenant signing keys, ES256 or (where the tenant chose it) Ed25519: private keys sealed at
 * rest, public keys published until every token they signed has expired. Keys are cached per
 * tenant; a rotation elsewhere in a cluster is picked up when the cache ages out or a token names
 * a `kid` we have not seen.
 */
export class KeyManager {
  readonly #store: SigningKeyStore
  readonly #box: SecretBox
  readonly #clock: Clock
  readonly #cache = new Map<string, TenantKeys>()
  readonly #loading = new Map<string, Promise<TenantKeys>>()
  /** Encoded JWT headers by type and kid: a handful per key, and keys rotate rarely. */
  readonly #encodedHeaders = new Map<string, string>()

  constructor(options: { store: SigningKeyStore; secretBox: SecretBox; clock: Clock }) {
    this.#store = options.store
    this.#box = options.secretBox
    this.#clock = options.clock
  }

  /** Creates a new active key for the tenant, in the caller's transaction. */
  async createKey(
    tenantId: string,
    stores: Pick<Stores, 'signingKeys'>,
    alg: SigningAlgorithm = 'ES256',
  ): Promise<string> {
    const { privateKey, publicKey } =
      alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519')
    const { kty, crv, x, y } = publicKey.export({ format: 'jwk' })
    const publicJWK = { kty, crv, x, ...(y !== undefined && { y }) } as Record<string, string>
    const kid = jwkThumbprint(publicJWK)
    await stores.signingKeys.insert({
      kid,
      tenantId,
      alg,
      publicJWK,
      privateKey: this.#box.seal(
        privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
        `signing-key:${kid}`,
      ),
      status: 'active',
      createdAt: this.#clock.now(),
      retiredAt: undefined,
      publishUntil: undefined,
    })
    this.#cache.delete(tenantId)
    return kid
  }

  /**
   * Retires the active key (still published for `publishSeconds`) and makes a new one.
   * `publishSeconds` must cover the longest token lifetime of the tenant.
   */
  async rotate(
    tenantId: string,
    stores: Pick<Stores, 'signingKeys'>,
    publishSeconds: number,
    alg: SigningAlgorithm = 'ES256',
  ): Promise<string> {
    const now = this.#clock.now()
    // Nodes may keep signing with the old key until their cache ages out.
    await stores.signingKeys.retireActive(tenantId, {
      retiredAt: now,
      publishUntil: now + publishSeconds + cacheSeconds,
    })
    const kid = await this.createKey(tenantId, stores, alg)
    this.#cache.delete(tenantId)
    return kid
  }

  /** Signs a JWT with the tenant's active key. */
  async signJWT(tenantId: string, typ: string, payload: object): Promise<string> {
    const keys = await this.#keys(tenantId)
    if (!keys.active) throw new Error(`tenant ${tenantId} has no active signing key`)
    const { kid, alg, key } = keys.active
    const input = `${this.#encodedHeader(typ, alg, kid)}.${encodeJSON(payload)}`
    return `${input}.${(await signJWS(alg, key, input)).toString('base64url')}`
  }

  /** The protected header of every JWT of one type and key is the same text; encoded once. */
  #encodedHeader(typ: string, alg: SigningAlgorithm, kid: string): string {
    const cacheKey = `${typ} ${kid}`
    let encoded = this.#encodedHeaders.get(cacheKey)
    if (encoded === undefined) {
      encoded = encodeJSON({ alg, typ, kid })
      this.#encodedHeaders.set(cacheKey, encoded)
    }
    return encoded
  }

  /** A published key of the tenant and the algorithm it signs with. */
  async verificationKey(tenantId: string, kid: string): Promise<{ alg: string; key: KeyObject } | undefined> {
    let keys = await this.#keys(tenantId)
    const key = keys.verification.get(kid)
    if (key || this.#clock.now() < keys.reloadAfter) return key
    this.#cache.delete(tenantId)
    keys = await this.#keys(tenantId)
    return keys.verification.get(kid)
  }

  async jwks(tenantId: string): Promise<{ keys: PublicJWK[] }> {
    return { keys: (await this.#keys(tenantId)).jwks }
  }

  async list(tenantId: string): Promise<SigningKeyRecord[]> {
    return this.#store.listPublished(tenantId, this.#clock.now())
  }

  forget(tenantId: string): void {
    this.#cache.delete(tenantId)
  }

  async #keys(tenantId: string): Promise<TenantKeys> {
    const now = this.#clock.now()
    const cached = this.#cache.get(tenantId)
    if (cached && now - cached.loadedAt < cacheSeconds) return cached
    let loading = this.#loading.get(tenantId)
    if (!loading) {
      loading = this.#load(tenantId).finally(() => this.#loading.delete(tenantId))
      this.#loading.set(tenantId, loading)
    }
    return loading
  }

  async #load(tenantId: string): Promise<TenantKeys> {
    const now = this.#clock.now()
    const records = await this.#store.listPublished(tenantId, now)
    const activeRecord = records.find((r) => r.status === 'active')
    const keys: TenantKeys = {
      loadedAt: now,
      reloadAfter: now + 5,
      active: activeRecord && {
        kid: activeRecord.kid,
        alg: activeRecord.alg as SigningAlgorithm,
        key: createPrivateKey(this.#box.open(activeRecord.privateKey, `signing-key:${activeRecord.kid}`)),
      },
      verification: new Map(
        records.map((r) => [
          r.kid,
          { alg: r.alg, key: importPublicJWK(r.publicJWK as Record<string, unknown>) },
        ]),
      ),
      jwks: records.map((r) => ({
        ...(r.publicJWK as Omit<PublicJWK, 'kid' | 'alg' | 'use'>),
        kid: r.kid,
        alg: r.alg,
        use: 'sig',
      })),
    }
    this.#cache.set(tenantId, keys)
    return keys
  }
}
