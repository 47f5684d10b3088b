/**
 * A seeded random source for the fuzz tests (mulberry32): the same seed gives the same sequence,
 * so that a failing run can be replayed.
 */
export class SeededRandom {
  #state: number

  constructor(seed: number) {
    this.#state = seed | 0
  }

  /** A number in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) | 0
    let t = Math.imul(this.#state ^ (this.#state >>> 15), 1 | this.#state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n)
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!
  }

  chance(p: number): boolean {
    return this.next() < p
  }

  /**
   * A value of the kinds that break careless parsing — wrong JSON types, extremes, empty and
   * very long strings, a NUL character, empty and nested containers — or one of `likely`.
   */
  oddValue(likely: readonly unknown[] = []): unknown {
    return this.pick<unknown>([
      null,
      true,
      0,
      -1,
      1e308,
      Number.MAX_SAFE_INTEGER + 2,
      '',
      'x'.repeat(this.below(5000)),
      '\u0000',
      [],
      [1, ['a']],
      {},
      { nested: { deeper: [] } },
      ...likely,
    ])
  }
}
