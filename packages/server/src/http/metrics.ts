import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { collectDefaultMetrics, type Metric, Registry } from 'prom-client'
import type { AppleCertificateExpiry } from '../apple/apple-config-manager.ts'

const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]

/**
 * Prometheus metrics: request counts and latencies by route, when the tenants' Apple
 * certificates expire (read when scraped), plus the process defaults.
 */
export function registerMetrics(
  app: FastifyInstance,
  options: { appleCertificateExpiries: () => Promise<AppleCertificateExpiry[]> },
): Registry {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'onramp_' })
  const requests = new RequestCounts()
  const latency = new RouteLatency()
  const expiries = new AppleCertificateExpiries(options.appleCertificateExpiries, app.log)
  // The registry reads any object with this shape; its types name only prom-client's own classes.
  for (const metric of [requests, latency, expiries]) registry.registerMetric(metric as unknown as Metric)
  app.addHook('onResponse', (request, reply, done) => {
    // The route pattern, never the raw URL: tenant ids stay bounded, tokens never become labels.
    const route = request.routeOptions.url ?? 'unmatched'
    requests.inc(route, request.method, reply.statusCode)
    latency.observe(route, reply.elapsedTime / 1000)
    done()
  })
  return registry
}

/** What the registry asks a metric for when it is scraped. */
interface Scraped {
  name: string
  help: string
  type: 'counter' | 'histogram' | 'gauge'
  aggregator: 'sum' | 'omit'
  values: { metricName?: string; labels: Record<string, string | number>; value: number }[]
}

/*
 * Both metrics count on every request, so they keep plain numbers per label set and build
 * prom-client's exposition objects only when scraped: prom-client's own labelled counters and
 * histograms validate and hash their labels on every call, even through a kept child.
 */

class RequestCounts {
  readonly name = 'onramp_http_requests_total'
  readonly help = 'HTTP requests by route, method and status'
  readonly type = 'counter' as const
  readonly aggregator = 'sum' as const
  readonly #counts = new Map<
    string,
    { labels: { route: string; method: string; status: number }; value: number }
  >()

  inc(route: string, method: string, status: number): void {
    const key = `${route} ${method} ${status}`
    const entry = this.#counts.get(key)
    if (entry) entry.value++
    else this.#counts.set(key, { labels: { route, method, status }, value: 1 })
  }

  get(): Scraped {
    const values = [...this.#counts.values()].map(({ labels, value }) => ({ labels: { ...labels }, value }))
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
  }

  reset(): void {
    this.#counts.clear()
  }
}

class RouteLatency {
  readonly name = 'onramp_http_request_duration_seconds'
  readonly help = 'HTTP request latency by route'
  readonly type = 'histogram' as const
  readonly aggregator = 'sum' as const
  readonly #routes = new Map<string, { buckets: number[]; sum: number; count: number }>()

  observe(route: string, seconds: number): void {
    let entry = this.#routes.get(route)
    if (!entry) {
      entry = { buckets: latencyBuckets.map(() => 0), sum: 0, count: 0 }
      this.#routes.set(route, entry)
    }
    const bucket = latencyBuckets.findIndex((bound) => seconds <= bound)
    if (bucket >= 0) entry.buckets[bucket]!++
    entry.sum += seconds
    entry.count++
  }

  get(): Scraped {
    const values: Scraped['values'] = []
    for (const [route, { buckets, sum, count }] of this.#routes) {
      let cumulative = 0
      for (const [i, bound] of latencyBuckets.entries()) {
        cumulative += buckets[i]!
        values.push({ metricName: `${this.name}_bucket`, labels: { le: bound, route }, value: cumulative })
      }
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', route }, value: count })
      values.push({ metricName: `${this.name}_sum`, labels: { route }, value: sum })
      values.push({ metricName: `${this.name}_count`, labels: { route }, value: count })
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
  }

  reset(): void {
    this.#routes.clear()
  }
}

/** A gauge per tenant and certificate, for alerts ahead of an expiry (a lapsed push certificate stops every device). */
class AppleCertificateExpiries {
  readonly name = 'onramp_apple_certificate_expiry_timestamp_seconds'
  readonly help =
    'When a tenant’s Apple certificate expires (device_ca, push, profile_signing), in seconds since the epoch'
  readonly type = 'gauge' as const
  // Timestamps do not add up across processes.
  readonly aggregator = 'omit' as const
  readonly #read: () => Promise<AppleCertificateExpiry[]>
  readonly #log: FastifyBaseLogger

  constructor(read: () => Promise<AppleCertificateExpiry[]>, log: FastifyBaseLogger) {
    this.#read = read
    this.#log = log
  }

  async get(): Promise<Scraped> {
    let expiries: AppleCertificateExpiry[] = []
    try {
      expiries = await this.#read()
    } catch (error) {
      // The other metrics still answer; the gauge's series go missing, which an alert can see.
      this.#log.warn({ err: error }, 'could not read the Apple certificates for /metrics')
    }
    const values = expiries.map(({ tenantId, certificate, notAfter }) => ({
      labels: { tenant: tenantId, certificate },
      value: notAfter,
    }))
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
  }

  reset(): void {}
}
