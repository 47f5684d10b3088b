/** Where progress goes: stderr, or a stand-in in tests. */
export interface ProgressStream {
  isTTY?: boolean
  write(text: string): unknown
}

const barWidth = 30

/**
 * Progress of a long command, on stderr so stdout keeps only the result: on a terminal, one bar
 * redrawn in place; otherwise (a pipe, a log file) one plain line per step.
 */
export class Progress {
  readonly #stream: ProgressStream
  /** Whether a bar is drawn on the current line and needs a newline before anything else. */
  #drawn = false

  constructor(stream: ProgressStream) {
    this.#stream = stream
  }

  /** `done` of `total` `unit`s for `label`. */
  update(label: string, done: number, total: number, unit: string): void {
    if (!this.#stream.isTTY) {
      if (done > 0) this.#stream.write(`${label}: ${done}/${total} ${unit}\n`)
      return
    }
    const fraction = total === 0 ? 1 : Math.min(done / total, 1)
    const filled = Math.round(fraction * barWidth)
    const bar = `${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}`
    // \r goes back to the line's start, ESC[K clears what a longer previous line left.
    this.#stream.write(`\r${label} [${bar}] ${Math.round(fraction * 100)}% ${done}/${total} ${unit}\x1b[K`)
    this.#drawn = true
  }

  /** Ends the bar's line. */
  end(): void {
    if (this.#drawn) this.#stream.write('\n')
    this.#drawn = false
  }
}
