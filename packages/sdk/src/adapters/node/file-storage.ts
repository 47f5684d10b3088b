import { randomBytes } from 'node:crypto'
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { JsonValue, Storage } from '../storage.ts'
import { FileLock } from './file-lock.ts'

export interface FileStorageOptions {
  /** Folder of the SDK's files; created (mode 0700) when missing. */
  directory: string
  /** One SDK instance's name: its records are in `{directory}/{namespace}.json`. */
  namespace?: string
  /** Milliseconds to wait for the namespace's lock (another process refreshing); 60,000 by default. */
  lockTimeout?: number
}

const namespacePattern = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,128}$/

/**
 * Node storage: one JSON file per namespace, readable by the owner only (0600). Every write
 * replaces the whole file by writing a temporary file, flushing it to disk and renaming it over
 * the old one, so a crash leaves the old content or the new, never a torn file. Writes of one
 * instance are serialised. Processes that share a namespace share its `FileLock`
 * (`{directory}/{namespace}.{name}.lock`), under which the SDK changes its record.
 */
export class FileStorage implements Storage {
  readonly path: string
  readonly lock: FileLock
  readonly #directory: string
  #writes: Promise<unknown> = Promise.resolve()

  constructor(options: FileStorageOptions) {
    const namespace = options.namespace ?? 'onramp'
    if (!namespacePattern.test(namespace))
      throw new RangeError('namespace must be 1–128 letters, digits, dots, dashes or underscores')
    this.#directory = options.directory
    this.path = join(options.directory, `${namespace}.json`)
    this.lock = new FileLock({
      directory: options.directory,
      namespace,
      ...(options.lockTimeout !== undefined && { timeout: options.lockTimeout }),
    })
  }

  async get(key: string): Promise<JsonValue | undefined> {
    await this.#writes.catch(() => {})
    return (await this.#read())[key]
  }

  set(key: string, value: JsonValue): Promise<void> {
    return this.#update((records) => {
      records[key] = JSON.parse(JSON.stringify(value)) as JsonValue
    })
  }

  delete(key: string): Promise<void> {
    return this.#update((records) => {
      delete records[key]
    })
  }

  #update(change: (records: Record<string, JsonValue>) => void): Promise<void> {
    const write = this.#writes
      .catch(() => {})
      .then(async () => {
        const records = await this.#read()
        change(records)
        await this.#replace(JSON.stringify(records))
      })
    this.#writes = write
    return write
  }

  async #read(): Promise<Record<string, JsonValue>> {
    let text: string
    try {
      text = await readFile(this.path, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {}
      throw error
    }
    const parsed = JSON.parse(text) as unknown
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error(`${this.path} does not hold an object of records`)
    return parsed as Record<string, JsonValue>
  }

  async #replace(text: string): Promise<void> {
    await mkdir(this.#directory, { recursive: true, mode: 0o700 })
    const temporary = `${this.path}.${randomBytes(6).toString('hex')}.tmp`
    try {
      const file = await open(temporary, 'wx', 0o600)
      try {
        await file.writeFile(text, 'utf8')
        await file.sync()
      } finally {
        await file.close()
      }
      await rename(temporary, this.path)
    } catch (error) {
      await rm(temporary, { force: true })
      throw error
    }
    await syncDirectory(this.#directory)
  }
}

/** Makes the rename itself durable; some platforms (Windows) cannot open a folder, which is fine. */
async function syncDirectory(directory: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined
  try {
    handle = await open(directory, 'r')
    await handle.sync()
  } catch {
    // Durability of the rename is best effort where folders cannot be synced.
  } finally {
    await handle?.close()
  }
}
