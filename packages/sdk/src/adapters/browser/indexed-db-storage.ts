import { InProcessLock } from '../in-process-lock.ts'
import type { Lock } from '../lock.ts'
import type { JsonValue, Storage } from '../storage.ts'
import { checkNamespace, RecordsStore, SdkDatabase } from './sdk-database.ts'
import { WebLocksLock } from './web-locks-lock.ts'

export interface IndexedDBStorageOptions {
  /** One SDK instance's name: its records are under `[namespace, key]`. `onramp` by default. */
  namespace?: string
  /** The IndexedDB database, shared with `BrowserKeyStore`; `onramp-sdk` by default. */
  databaseName?: string
  /** `globalThis.indexedDB` by default (workers have it too). */
  indexedDB?: IDBFactory
  /** Milliseconds to wait for the namespace's Web Lock (another tab refreshing); 60,000 by default. */
  lockTimeout?: number
}

/**
 * Browser storage: each record in IndexedDB (object store `records`, key `[namespace, key]`) as
 * the JSON value it is (members that are `undefined` dropped, as `FileStorage` does). Every write
 * is one `readwrite` transaction with `strict` durability, and resolves once it has committed, so
 * a closed tab or a crash leaves the old record or the new one. IndexedDB orders transactions on
 * the same records, so writes apply in the order they were made and a read sees every earlier
 * write. Tabs that share a namespace share its Web Lock (`onramp-sdk/{databaseName}/{namespace}/…`),
 * under which the SDK changes its record; where a browser lacks Web Locks, the lock holds within
 * the tab only.
 */
export class IndexedDBStorage implements Storage {
  readonly namespace: string
  readonly lock: Lock
  readonly #database: SdkDatabase

  constructor(options: IndexedDBStorageOptions = {}) {
    this.namespace = checkNamespace(options.namespace ?? 'onramp')
    const databaseName = options.databaseName ?? 'onramp-sdk'
    this.#database = new SdkDatabase({
      name: databaseName,
      factory: options.indexedDB ?? globalThis.indexedDB,
    })
    this.lock = globalThis.navigator?.locks
      ? new WebLocksLock({
          scope: `onramp-sdk/${databaseName}/${this.namespace}`,
          ...(options.lockTimeout !== undefined && { timeout: options.lockTimeout }),
        })
      : new InProcessLock()
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
