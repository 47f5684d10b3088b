import { type HttpRequestSpec, type Measurement, runLoad, SPARE_PER_CONNECTION } from './load.ts'

export type Log = (message: string) => void

export interface RunOptions {
  phase: 'warm-up' | 'measure'
  seconds: number
  connections: number
  log: Log
  /** CPU seconds the target's process has used so far, to report CPU per request. */
  targetCpuSeconds?: () => number | undefined
}

/** What a scenario measures. HTTP load is one kind; in-process work can implement this directly. */
export interface Workload {
  run(options: RunOptions): Promise<Measurement>
}

export interface FreshHeader {
  header: string
  make(count: number): Promise<string[]>
}

// The brief's generous ceiling for one client box; beyond it proof generation would eat the iat window.
const MAX_RATE_ESTIMATE = 20_000
const WARM_UP_POOL_PER_SECOND = 4_000
const HEADROOM = 2

/**
 * HTTP workload. With a fresh header (DPoP), the pool is generated right before each window and
 * sized from the warm-up throughput, so proofs are young when used and never run out in practice.
 */
export function httpWorkload(baseUrl: string, request: HttpRequestSpec, fresh?: FreshHeader): Workload {
  let lastRate = 0
  return {
    async run(options: RunOptions): Promise<Measurement> {
      let values: string[] | undefined
      if (fresh) {
        const perSecond =
          options.phase === 'warm-up' || lastRate === 0
            ? WARM_UP_POOL_PER_SECOND
            : Math.min(MAX_RATE_ESTIMATE, Math.max(1_000, lastRate * HEADROOM))
        const count = Math.ceil(perSecond * options.seconds) + SPARE_PER_CONNECTION * options.connections
        const started = performance.now()
        values = await fresh.make(count)
        const took = (performance.now() - started) / 1000
        options.log(
          `generated ${count.toLocaleString('en-US')} ${fresh.header} values in ${took.toFixed(1)} s`,
        )
      }
      const measurement = await runLoad({
        baseUrl,
        request,
        seconds: options.seconds,
        connections: options.connections,
        ...(options.targetCpuSeconds && { targetCpuSeconds: options.targetCpuSeconds }),
        ...(fresh && values ? { fresh: { header: fresh.header, values } } : {}),
      })
      lastRate = measurement.reqPerSec
      return measurement
    },
  }
}
