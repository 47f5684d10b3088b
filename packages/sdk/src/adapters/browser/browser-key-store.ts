import { randomId } from '../../crypto/random.ts'
import type { DeviceKey, KeyStore } from '../key-store.ts'
import type { JsonObject } from '../storage.ts'
import { checkNamespace, DeviceKeysStore, namespaceRange, SdkDatabase } from './sdk-database.ts'

export interface BrowserKeyStoreOptions {
  /** Use the namespace of the SDK instance's `IndexedDBStorage`. `onramp` by default. */
  namespace?: string
  /** The IndexedDB database, shared with `IndexedDBStorage`; `onramp-sdk` by default. */
  databaseName?: string
  /** `globalThis.indexedDB` by default. */
  indexedDB?: IDBFactory
}

/** What the store keeps under `[namespace, keyId]`: IndexedDB clones CryptoKeys as they are. */
interface StoredKeyPair {
  privateKey: CryptoKey
  publicKey: CryptoKey
  createdAt: number
}

const algorithm: EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' }
const recordKind = 'indexeddb'

/**
 * Device keys for browsers: a WebCrypto ECDSA P-256 key pair generated non-extractable, so no
 * script (ours included) can read the private key, only have the browser sign with it, and kept
 * as `CryptoKey` objects in IndexedDB (object store `device-keys`), which stores them as they are.
 * The enrollment's record holds only a reference to the pair, `{kind: 'indexeddb', keyId}`.
 *
 * A key the page cannot read cannot be encrypted by the page either: whatever the authentication
 * mode, any script of the origin can sign with it, and the browser keeps its material in the
 * profile's files. What the mode protects is the tokens, sealed in the enrollment record; all of
 * them are bound to this key (DPoP), so the key alone obtains nothing, and stolen tokens are of no
 * use without it. `isHardwareBacked` is false: browsers do not say where they keep keys.
 */
export class BrowserKeyStore implements KeyStore {
  readonly isHardwareBacked = false
  readonly namespace: string
  readonly #database: SdkDatabase

  constructor(options: BrowserKeyStoreOptions = {}) {
    this.namespace = checkNamespace(options.namespace ?? 'onramp')
    this.#database = new SdkDatabase({
      name: options.databaseName ?? 'onramp-sdk',
      factory: options.indexedDB ?? globalThis.indexedDB,
    })
  }

  /** A new key pair; it replaces the namespace's previous one in the same transaction. */
  async createKey(): Promise<DeviceKey> {
    const keyPair = await crypto.subtle.generateKey(algorithm, false, ['sign', 'verify'])
    const keyId = randomId()
    const stored: StoredKeyPair = {
      privateKey: keyPair.privateKey,
      publicKey: keyPair.publicKey,
      createdAt: Date.now(),
    }
    await this.#database.run(DeviceKeysStore, 'readwrite', (store) => {
      store.delete(namespaceRange(this.namespace))
      return store.put(stored, [this.namespace, keyId])
    })
    return { keyPair, record: { kind: recordKind, keyId } }
  }

  async openKey(record: JsonObject): Promise<CryptoKeyPair | undefined> {
    if (record.kind !== recordKind || typeof record.keyId !== 'string') return undefined
    const keyId = record.keyId
    const stored = await this.#database.run<unknown>(DeviceKeysStore, 'readonly', (store) =>
      store.get([this.namespace, keyId]),
    )
    if (!isStoredKeyPair(stored)) return undefined
    return { privateKey: stored.privateKey, publicKey: stored.publicKey }
  }

  async deleteKeys(): Promise<void> {
    await this.#database.run(DeviceKeysStore, 'readwrite', (store) =>
      store.delete(namespaceRange(this.namespace)),
    )
  }
}

function isStoredKeyPair(value: unknown): value is StoredKeyPair {
  const stored = value as Partial<StoredKeyPair> | undefined
  return (
    stored?.privateKey instanceof CryptoKey &&
    stored.privateKey.type === 'private' &&
    stored.privateKey.usages.includes('sign') &&
    stored.publicKey instanceof CryptoKey &&
    stored.publicKey.type === 'public'
  )
}
