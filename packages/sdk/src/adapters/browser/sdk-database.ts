/** The object store of `IndexedDBStorage`: JSON records under `[namespace, key]`. */
export const RecordsStore = 'records'
/** The object store of `BrowserKeyStore`: CryptoKey pairs under `[namespace, keyId]`. */
export const DeviceKeysStore = 'device-keys'

const version = 1

export interface SdkDatabaseOptions {
  /** The IndexedDB database; both browser adapters use `onramp-sdk` by default. */
  name: string
  /** `globalThis.indexedDB` by default. */
  factory: IDBFactory | undefined
}

/**
 * The SDK's IndexedDB database, opened on first use. Each call of `run` is one transaction, and
 * resolves only when the transaction has completed (a `readwrite` one with `strict` durability:
 * flushed to disk, as `FileStorage` does), so a write is all there or not at all. IndexedDB runs
 * transactions with overlapping scopes in the order they were created, so reads see earlier writes.
 */
export class SdkDatabase {
  readonly #options: SdkDatabaseOptions
  #connection: Promise<IDBDatabase> | undefined
  #database: IDBDatabase | undefined

  constructor(options: SdkDatabaseOptions) {
    this.#options = options
  }

  /**
   * Runs `work` in one transaction on `store`; the result is that of the request `work` returns.
   * A transaction that fails or aborts rejects, and none of its requests take effect.
   */
  async run<T>(
    store: string,
    mode: IDBTransactionMode,
    work: (store: IDBObjectStore) => IDBRequest<T> | undefined,
  ): Promise<T | undefined> {
    const database = await this.#open()
    return new Promise<T | undefined>((resolve, reject) => {
      const transaction = database.transaction(store, mode, {
        durability: mode === 'readwrite' ? 'strict' : 'default',
      })
      let result: T | undefined
      transaction.oncomplete = () => resolve(result)
      transaction.onabort = () =>
        reject(transaction.error ?? new DOMException('the transaction was aborted', 'AbortError'))
      const request = work(transaction.objectStore(store))
      if (request)
        request.onsuccess = () => {
          result = request.result
        }
    })
  }

  #open(): Promise<IDBDatabase> {
    this.#connection ??= this.#connect().catch((error: unknown) => {
      this.#connection = undefined
      throw error
    })
    return this.#connection
  }

  #connect(): Promise<IDBDatabase> {
    const factory = this.#options.factory
    if (!factory) return Promise.reject(new TypeError('IndexedDB is not available here'))
    return new Promise((resolve, reject) => {
      const request = factory.open(this.#options.name, version)
      request.onupgradeneeded = () => {
        const database = request.result
        for (const store of [RecordsStore, DeviceKeysStore])
          if (!database.objectStoreNames.contains(store)) database.createObjectStore(store)
      }
      request.onsuccess = () => {
        const database = request.result
        // Another tab with a newer SDK wants to upgrade: let it, and open again on the next call.
        database.onversionchange = () => this.#forget(database)
        // The browser closed the connection (storage cleared, disk error): open again next time.
        database.onclose = () => this.#forget(database)
        this.#database = database
        resolve(database)
      }
      request.onerror = () => reject(request.error ?? new Error(`${this.#options.name} could not be opened`))
    })
  }

  #forget(database: IDBDatabase): void {
    database.close()
    if (this.#database !== database) return
    this.#database = undefined
    this.#connection = undefined
  }
}

/** Every key of one namespace in a store keyed by `[namespace, …]`. */
export function namespaceRange(namespace: string): IDBKeyRange {
  // Arrays sort after strings in IndexedDB, so `[namespace, []]` is above every `[namespace, id]`.
  return IDBKeyRange.bound([namespace], [namespace, []])
}

const namespacePattern = /^[A-Za-z0-9._-]{1,128}$/

export function checkNamespace(namespace: string): string {
  if (!namespacePattern.test(namespace))
    throw new RangeError('namespace must be 1–128 letters, digits, dots, dashes or underscores')
  return namespace
}
