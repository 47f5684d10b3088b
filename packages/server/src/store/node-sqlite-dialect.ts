import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite'
import {
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely'

/**
 * Kysely on `node:sqlite` with up to two connections to one database file: a writer for
 * transactions and writes, one at a time, and a reader for plain `select`s outside transactions.
 * In WAL mode the reader sees the last committed state while the writer works, so reads never wait
 * behind an open transaction (a group commit holds the writer for a whole batch). Without a reader
 * (`:memory:`, where a second connection would open another database) every query takes the writer.
 */
export class NodeSqliteDialect implements Dialect {
  readonly #writer: DatabaseSync
  readonly #reader: DatabaseSync | undefined

  constructor(writer: DatabaseSync, reader?: DatabaseSync) {
    this.#writer = writer
    this.#reader = reader
  }

  createDriver(): Driver {
    return new NodeSqliteDriver(this.#writer, this.#reader)
  }

  createAdapter(): SqliteAdapter {
    return new ConcurrentSqliteAdapter()
  }

  createQueryCompiler(): SqliteQueryCompiler {
    return new SqliteQueryCompiler()
  }

  createIntrospector(db: Kysely<unknown>): SqliteIntrospector {
    return new SqliteIntrospector(db)
  }
}

/** Kysely serialises every query of a single-connection adapter; this driver does it for writes alone. */
class ConcurrentSqliteAdapter extends SqliteAdapter {
  override get supportsMultipleConnections(): boolean {
    return true
  }
}

class NodeSqliteDriver implements Driver {
  readonly #writer: Statements
  readonly #reader: Statements | undefined
  readonly #writerLock = new Lock()

  constructor(writer: DatabaseSync, reader: DatabaseSync | undefined) {
    this.#writer = new Statements(writer)
    this.#reader = reader && new Statements(reader)
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    return new RoutedConnection(this.#writer, this.#reader, this.#writerLock)
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as RoutedConnection).begin()
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    ;(connection as RoutedConnection).end('commit')
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    ;(connection as RoutedConnection).end('rollback')
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    ;(connection as RoutedConnection).release()
  }

  async destroy(): Promise<void> {
    this.#reader?.database.close()
    this.#writer.database.close()
  }
}

/** One query at a time on the writer: a transaction holds it from BEGIN to COMMIT or ROLLBACK. */
class Lock {
  #held: Promise<void> | undefined
  #free: (() => void) | undefined

  async obtain(): Promise<void> {
    while (this.#held) await this.#held
    this.#held = new Promise((resolve) => {
      this.#free = resolve
    })
  }

  release(): void {
    const free = this.#free
    this.#held = undefined
    this.#free = undefined
    free?.()
  }
}

class RoutedConnection implements DatabaseConnection {
  readonly #writer: Statements
  readonly #reader: Statements | undefined
  readonly #lock: Lock
  #inTransaction = false

  constructor(writer: Statements, reader: Statements | undefined, lock: Lock) {
    this.#writer = writer
    this.#reader = reader
    this.#lock = lock
  }

  async begin(): Promise<void> {
    await this.#lock.obtain()
    this.#inTransaction = true
    try {
      this.#writer.database.exec('begin')
    } catch (error) {
      this.release()
      throw error
    }
  }

  /**
   * A failed COMMIT leaves the transaction open, and the lock held until the ROLLBACK that
   * follows; a ROLLBACK releases the lock whatever happens.
   */
  end(command: 'commit' | 'rollback'): void {
    if (command === 'commit') {
      this.#writer.database.exec('commit')
      this.release()
      return
    }
    try {
      this.#writer.database.exec('rollback')
    } catch (error) {
      // SQLite may have rolled the transaction back by itself (after an I/O error, say).
      if (!(error instanceof Error && error.message.includes('no transaction is active'))) throw error
    } finally {
      this.release()
    }
  }

  release(): void {
    if (!this.#inTransaction) return
    this.#inTransaction = false
    this.#lock.release()
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (this.#inTransaction) return this.#writer.execute(query)
    if (this.#reader && /^select\s/i.test(query.sql)) return this.#reader.execute(query)
    await this.#lock.obtain()
    try {
      return this.#writer.execute(query)
    } finally {
      this.#lock.release()
    }
  }

  // biome-ignore lint/correctness/useYield: streaming is not offered; Kysely requires the method.
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming queries is not supported on SQLite')
  }
}

/** A connection's prepared statements, kept by SQL text: Kysely compiles the same text for the same query. */
class Statements {
  readonly database: DatabaseSync
  readonly #prepared = new Map<string, { statement: StatementSync; reader: boolean }>()

  constructor(database: DatabaseSync) {
    this.database = database
  }

  execute<R>(query: CompiledQuery): QueryResult<R> {
    let entry = this.#prepared.get(query.sql)
    if (!entry) {
      const statement = this.database.prepare(query.sql)
      entry = { statement, reader: statement.columns().length > 0 }
      if (this.#prepared.size >= 500) this.#prepared.clear()
      this.#prepared.set(query.sql, entry)
    }
    const parameters = query.parameters as SQLInputValue[]
    if (entry.reader) return { rows: entry.statement.all(...parameters) as R[] }
    const { changes, lastInsertRowid } = entry.statement.run(...parameters)
    return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] }
  }
}
