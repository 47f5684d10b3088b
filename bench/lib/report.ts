import type { Measurement } from './load.ts'

export interface Row {
  /** What the table shows: the scenario's name, or that of a repeated window. */
  scenario: string
  /** The scenario measured; ratios use the mean of its windows. */
  of: string
  measurement: Measurement
}

export interface Ratio {
  label: string
  numerator: string
  denominator: string
  target: number
}

function fixed(value: number, digits: number): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

export function failureShare(measurement: Measurement): number {
  return measurement.requests === 0 ? 1 : measurement.failures / measurement.requests
}

export function formatTable(rows: Row[]): string {
  const header = [
    'scenario',
    'req/s',
    'p50 ms',
    'p99 ms',
    'mean ms',
    'requests',
    'non-2xx+err',
    'CPU µs/req: target + load',
  ]
  const body = rows.map(({ scenario, measurement: m }) => [
    scenario,
    fixed(m.reqPerSec, 0),
    fixed(m.p50Ms, 2),
    fixed(m.p99Ms, 2),
    fixed(m.meanMs, 2),
    fixed(m.requests, 0),
    `${fixed(m.failures, 0)} (${fixed(failureShare(m) * 100, 2)}%)`,
    m.cpuUs
      ? `${m.cpuUs.target === undefined ? '-' : fixed(m.cpuUs.target, 0)} + ${fixed(m.cpuUs.load, 0)}`
      : '-',
  ])
  const widths = header.map((title, i) => Math.max(title.length, ...body.map((row) => row[i]!.length)))
  const line = (cells: string[]): string =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(' | ')
  return [line(header), widths.map((width) => '-'.repeat(width)).join('-|-'), ...body.map(line)].join('\n')
}

export function formatRatios(ratios: Ratio[], rows: Row[]): string[] {
  const windows = (name: string): Row[] => rows.filter((row) => row.of === name)
  const rate = (name: string): number | undefined => {
    const measured = windows(name)
    if (measured.length === 0) return undefined
    return measured.reduce((sum, row) => sum + row.measurement.reqPerSec, 0) / measured.length
  }
  const lines: string[] = []
  for (const ratio of ratios) {
    const numerator = rate(ratio.numerator)
    const denominator = rate(ratio.denominator)
    if (numerator === undefined || denominator === undefined || denominator === 0) continue
    const value = numerator / denominator
    const verdict = value >= ratio.target ? 'reached' : 'MISSED'
    const count = windows(ratio.denominator).length
    const note = count > 1 ? ` (denominator: mean of ${count} windows, ${fixed(denominator, 0)} req/s)` : ''
    lines.push(
      `${ratio.label}: ${fixed(value, 2)}x${note} (target >= ${fixed(ratio.target, 1)}x: ${verdict})`,
    )
  }
  return lines
}
