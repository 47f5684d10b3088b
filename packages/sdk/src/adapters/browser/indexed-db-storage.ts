import type { JsonValue, Storage } from '../storage.ts'
import { checkNamespace, RecordsStore, SdkDatabase } from './sdk-database.ts'

export interface IndexedDBStorageOptions {
  /** One SDK instance's name: its records are under `[namespace, key]`. `onramp` by default. */
  namespace?: string
  /** The IndexedDB database, shared with `BrowserKeyStore`; `onramp-sdk` by default. */
  databaseName?: string
  /** `globalThis.indexedDB` by default (workers have it too). */
  indexedDB?: IDBFactory
}

/**
 * Browser storage: each record in IndexedDB (object store `records`, key `[namespace, key]`) as
 * the JSON value it is (members that are `undefined` dropped, as `FileStorage` does). Every write
 * is one `readwrite` transaction with `strict` durability, and resolves once it has committed, so
 * a closed tab or a crash leaves the old record or the new one. IndexedDB orders transactions on
 * the same records, so writes apply in the order they were made and a read sees every earlier
 * write, in this tab; two tabs must not use one namespace at the same time.
 */
export class IndexedDBStorage implements Storage {
  readonly namespace: string
  readonly #database: SdkDatabase

  constructor(options: IndexedDBStorageOptions = {}) {
    this.namespace = checkNamespace(options.namespace ?? 'onramp')
    this.#database = new SdkDatabase({
      name: options.databaseName ?? 'onramp-sdk',
      factory: options.indexedDB ?? globalThis.indexedDB,
    })
  }

  async get(key: string): Promise<JsonValue | undefined> {
    return this.#database.run<JsonValue | undefined>(RecordsStore, 'readonly', (store) =>
      store.get([this.namespace, key]),
    )
  }

  async set(key: string, value: JsonValue): Promise<void> {
    const json = JSON.parse(JSON.stringify(value)) as JsonValue
    await this.#database.run(RecordsStore, 'readwrite', (store) => store.put(json, [this.namespace, key]))
  }

  async delete(key: string): Promise<void> {
    await this.#database.run(RecordsStore, 'readwrite', (store) => store.delete([this.namespace, key]))
  }
}
