/** How a command prints: human-readable text by default, the admin API's JSON with `--json`. */
export class Output {
  readonly json: boolean
  readonly #write: (text: string) => void

  constructor(options: { json: boolean; write: (text: string) => void }) {
    this.json = options.json
    this.#write = options.write
  }

  /** Prints `value` as JSON, or the human form of it. */
  result(value: unknown, human: () => string): void {
    this.#write(this.json ? `${JSON.stringify(value, null, 2)}\n` : ensureNewline(human()))
  }
}

export interface Column<T> {
  header: string
  value: (row: T) => string
}

/** Left-aligned columns, two spaces apart, under upper-case headers. */
export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = [columns.map((c) => c.header), ...rows.map((row) => columns.map((c) => c.value(row)))]
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)))
  return cells
    .map((line) =>
      line
        .map((cell, i) => (i === line.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}

/** `label  value` lines, aligned; undefined values are left out. */
export function details(fields: Record<string, string | undefined>): string {
  const entries = Object.entries(fields).filter((entry): entry is [string, string] => entry[1] !== undefined)
  const width = Math.max(...entries.map(([label]) => label.length))
  return entries.map(([label, value]) => `${`${label}:`.padEnd(width + 1)}  ${value}`).join('\n')
}

/** Seconds since the epoch as UTC ISO 8601, or `-`. */
export function time(seconds: number | undefined): string {
  return seconds === undefined ? '-' : new Date(seconds * 1000).toISOString().replace('.000Z', 'Z')
}

/** A list as one cell: comma-separated, or `-` when empty. */
export function list(values: readonly string[] | undefined): string {
  return values && values.length > 0 ? values.join(',') : '-'
}

function ensureNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`
}
