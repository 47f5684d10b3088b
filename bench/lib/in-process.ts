import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import type { Measurement } from './load.ts'
import type { RunOptions, Workload } from './workload.ts'

/** Operations prepared for one window: `run(i)` does the i-th, throwing when it fails. */
export interface PreparedOperations {
  count: number
  run(index: number): unknown
}

export interface InProcessWorkloadOptions {
  /** Builds the inputs of `count` operations before the timed window. */
  prepare(count: number): Promise<PreparedOperations>
  /** Operations per second to prepare for the warm-up, before any rate is known. */
  warmUpPerSecond: number
}

// In-process rates are steady, so a little headroom keeps the pool from running dry.
const HEADROOM = 1.3
// Other targets' child processes write to pipes this process must drain now and then.
const YIELD_EVERY_MS = 50

/**
 * In-process work, one operation at a time on this thread: the throughput of a library call, with
 * its inputs made before the window (a pool sized from the warm-up rate, like the HTTP workload's).
 * Operations returning a promise are awaited, so their asynchronous overhead is measured too.
 */
export function inProcessWorkload(options: InProcessWorkloadOptions): Workload {
  let lastRate = 0
  return {
    async run(run: RunOptions): Promise<Measurement> {
      const perSecond =
        run.phase === 'warm-up' || lastRate === 0 ? options.warmUpPerSecond : lastRate * HEADROOM
      const count = Math.max(1_000, Math.ceil(perSecond * run.seconds))
      const preparedAt = performance.now()
      const operations = await options.prepare(count)
      run.log(
        `prepared ${operations.count.toLocaleString('en-US')} operations in ${((performance.now() - preparedAt) / 1000).toFixed(1)} s`,
      )
      const measurement = await measure(operations, run.seconds)
      lastRate = measurement.reqPerSec
      return measurement
    },
  }
}

async function measure(operations: PreparedOperations, seconds: number): Promise<Measurement> {
  const latencies = new Float64Array(operations.count)
  let failures = 0
  let firstFailure: string | undefined
  const startedAt = performance.now()
  const endAt = startedAt + seconds * 1000
  let yieldedAt = startedAt
  let done = 0
  while (done < operations.count) {
    const before = performance.now()
    if (before >= endAt) break
    if (before - yieldedAt >= YIELD_EVERY_MS) {
      await yieldToEventLoop()
      yieldedAt = performance.now()
    }
    const operationStart = performance.now()
    try {
      const result = operations.run(done)
      if (result instanceof Promise) await result
    } catch (error) {
      failures++
      firstFailure ??= error instanceof Error ? `${error.name}: ${error.message}` : String(error)
    }
    latencies[done] = performance.now() - operationStart
    done++
  }
  const elapsed = (performance.now() - startedAt) / 1000
  const sorted = latencies.subarray(0, done).sort()
  const measurement: Measurement = {
    requests: done,
    seconds: elapsed,
    reqPerSec: elapsed > 0 ? done / elapsed : 0,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    meanMs: done > 0 ? sorted.reduce((sum, value) => sum + value, 0) / done : 0,
    failures,
    statusCodes: { ok: done - failures, failed: failures },
  }
  if (firstFailure !== undefined) measurement.firstFailure = firstFailure
  if (done === operations.count && elapsed < seconds - 0.5) measurement.exhaustedAfter = elapsed
  return measurement
}

function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!
}
