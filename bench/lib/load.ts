import autocannon, { type AutocannonRequest, type AutocannonResult } from 'autocannon'

export interface HttpRequestSpec {
  method: 'GET' | 'POST'
  path: string
  headers: Record<string, string>
  body?: string
}

export interface LoadOptions {
  baseUrl: string
  request: HttpRequestSpec
  seconds: number
  connections: number
  /**
   * One header value per request, never reused (DPoP proofs: the server keeps a jti replay cache).
   * The run ends early when the pool is used up rather than repeat a value.
   */
  fresh?: { header: string; values: string[] }
  targetCpuSeconds?: () => number | undefined
}

export interface Measurement {
  requests: number
  seconds: number
  reqPerSec: number
  /** Latencies of 2xx responses only, as autocannon does. */
  p50Ms: number
  p99Ms: number
  meanMs: number
  /** Non-2xx responses plus transport errors and timeouts. */
  failures: number
  statusCodes: Record<string, number>
  firstFailure?: string
  /** Set when the run stopped before `seconds` because the fresh-value pool ran out. */
  exhaustedAfter?: number
  /**
   * CPU µs per request over the window: the target's process (all its threads) and this process,
   * the load generator. Steadier than req/s on a shared machine, and what a ratio is made of.
   */
  cpuUs?: { target: number | undefined; load: number }
}

// Spare values for requests autocannon rebuilds after a reconnect, so the pool never runs dry mid-run.
export const SPARE_PER_CONNECTION = 2

export function runLoad(options: LoadOptions): Promise<Measurement> {
  const { request, fresh } = options
  let firstFailure: string | undefined
  // autocannon notices the end only on its 1 s sampling tick, so its own duration can overstate the
  // window by up to a second; first request to last response is the real window.
  let startedAt = 0
  let lastResponseAt = 0
  // autocannon's histogram has 1 ms resolution, too coarse for 2-5 ms responses, so time requests here.
  // With pipelining 1, setupRequest runs just before each write and the per-connection context
  // comes back with that request's response.
  const latencies: number[] = []

  const values = fresh?.values ?? []
  const amount = fresh ? values.length - SPARE_PER_CONNECTION * options.connections : undefined
  if (amount !== undefined && amount < options.connections) {
    throw new Error(`pool of ${values.length} fresh values is too small`)
  }
  let next = 0

  const spec: AutocannonRequest = {
    method: request.method,
    path: request.path,
    headers: request.headers,
    setupRequest: (built, context) => {
      context.sentAt = performance.now()
      if (!fresh) return built
      // Past the end only if reconnects ate the spares; an invalid value then shows up as a failure.
      const value = next < values.length ? values[next++]! : 'pool-exhausted'
      return { ...built, headers: { ...built.headers, [fresh.header]: value } }
    },
    onResponse: (status, body, context) => {
      lastResponseAt = performance.now()
      if (status >= 200 && status < 300) {
        latencies.push(lastResponseAt - (context.sentAt as number))
      } else if (firstFailure === undefined) {
        firstFailure = `HTTP ${status}: ${body.slice(0, 2_000)}`
      }
    },
  }
  if (request.body !== undefined) spec.body = request.body

  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined
    startedAt = performance.now()
    const cpuAtStart = { target: options.targetCpuSeconds?.(), load: process.cpuUsage() }
    const instance = autocannon(
      {
        url: options.baseUrl,
        connections: options.connections,
        // The timer below ends every run; `duration` is only a backstop (autocannon ignores it with `amount`).
        ...(amount === undefined ? { duration: options.seconds + 5 } : { amount }),
        requests: [spec],
      },
      (error, result) => {
        clearTimeout(timer)
        if (error) return reject(error)
        const seconds = lastResponseAt > startedAt ? (lastResponseAt - startedAt) / 1000 : result.duration
        const measurement = toMeasurement(result, seconds, latencies, firstFailure)
        measurement.cpuUs = cpuPerRequest(cpuAtStart, options.targetCpuSeconds?.(), measurement.requests)
        if (amount !== undefined && measurement.requests >= amount && seconds < options.seconds - 0.5) {
          measurement.exhaustedAfter = seconds
        }
        resolve(measurement)
      },
    )
    instance.on('reqError', (error: Error) => {
      firstFailure ??= `transport error: ${error.message}`
    })
    // Stopping just before autocannon's 1 s sampling tick ends the run on that tick, not a second later.
    timer = setTimeout(() => instance.stop(), options.seconds * 1000 - 100)
  })
}

function cpuPerRequest(
  atStart: { target: number | undefined; load: NodeJS.CpuUsage },
  targetNow: number | undefined,
  requests: number,
): Measurement['cpuUs'] {
  if (requests === 0) return undefined
  const load = process.cpuUsage(atStart.load)
  const target =
    atStart.target === undefined || targetNow === undefined ? undefined : targetNow - atStart.target
  return {
    target: target === undefined ? undefined : (target * 1e6) / requests,
    load: (load.user + load.system) / requests,
  }
}

function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!
}

function toMeasurement(
  result: AutocannonResult,
  seconds: number,
  latencies: number[],
  firstFailure: string | undefined,
): Measurement {
  const requests = result.requests.total
  const sorted = Float64Array.from(latencies).sort()
  const statusCodes: Record<string, number> = {}
  for (const [code, { count }] of Object.entries(result.statusCodeStats)) statusCodes[code] = count
  const measurement: Measurement = {
    requests,
    seconds,
    reqPerSec: seconds > 0 ? requests / seconds : 0,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    meanMs: sorted.length > 0 ? sorted.reduce((sum, value) => sum + value, 0) / sorted.length : 0,
    failures: result.non2xx + result.errors,
    statusCodes,
  }
  if (firstFailure !== undefined) measurement.firstFailure = firstFailure
  return measurement
}
