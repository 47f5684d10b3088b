import type { Lock } from './lock.ts'

/**
 * A lock within one JavaScript context: callers of one name run one after the other, in the
 * order they asked. For `MemoryStorage`, and storage that only one context uses at a time.
 */
export class InProcessLock implements Lock {
  readonly #tails = new Map<string, Promise<void>>()

  async withLock<T>(name: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(name) ?? Promise.resolve()
    let release!: () => void
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    const tail = previous.then(() => held)
    this.#tails.set(name, tail)
    await previous
    try {
      return await work()
    } finally {
      release()
      if (this.#tails.get(name) === tail) this.#tails.delete(name)
    }
  }
}
