import type { Measurement } from './load.ts'

export interface Row {
  /** What the table shows: the scenario's name, or that of a repeated window. */
  scenario: string
  /** The scenario measured; ratios use the mean of its windows within a round. */
  of: string
  /** Which pass over the scenarios (`BENCH_ROUNDS`), from 1. */
  round: number
  measurement: Measurement
}

export interface Ratio {
  label: string
  numerator: string
  denominator: string
  /** The ratio to reach; without one the line only reports. */
  target?: number
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

/**
 * One line per ratio. Within a round the denominator is the mean of its windows; over several
 * rounds the line gives each round's ratio and judges their median, which one stalled window of
 * a shared machine cannot move.
 */
export function formatRatios(ratios: Ratio[], rows: Row[]): string[] {
  const rounds = [...new Set(rows.map((row) => row.round))].sort((a, b) => a - b)
  const lines: string[] = []
  for (const ratio of ratios) {
    const measured = rounds
      .map((round) =>
        ratioIn(
          ratio,
          rows.filter((row) => row.round === round),
        ),
      )
      .filter((value) => value !== undefined)
    if (measured.length === 0) continue
    const judged = median(measured.map(({ value }) => value))
    const verdict =
      ratio.target === undefined
        ? ''
        : ` (target >= ${fixed(ratio.target, 1)}x: ${judged >= ratio.target ? 'reached' : 'MISSED'})`
    if (measured.length === 1) {
      const [{ value, windows, denominator }] = measured as [(typeof measured)[number]]
      const note =
        windows > 1 ? ` (denominator: mean of ${windows} windows, ${fixed(denominator, 0)} req/s)` : ''
      lines.push(`${ratio.label}: ${fixed(value, 2)}x${note}${verdict}`)
    } else {
      const each = measured.map(({ value }) => `${fixed(value, 2)}x`).join(', ')
      lines.push(
        `${ratio.label}: ${fixed(judged, 2)}x, median of ${measured.length} rounds (${each})${verdict}`,
      )
    }
  }
  return lines
}

function ratioIn(
  ratio: Ratio,
  rows: Row[],
): { value: number; windows: number; denominator: number } | undefined {
  const rate = (name: string): { mean: number; windows: number } | undefined => {
    const measured = rows.filter((row) => row.of === name)
    if (measured.length === 0) return undefined
    const sum = measured.reduce((total, row) => total + row.measurement.reqPerSec, 0)
    return { mean: sum / measured.length, windows: measured.length }
  }
  const numerator = rate(ratio.numerator)
  const denominator = rate(ratio.denominator)
  if (!numerator || !denominator || denominator.mean === 0) return undefined
  return {
    value: numerator.mean / denominator.mean,
    windows: denominator.windows,
    denominator: denominator.mean,
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}
