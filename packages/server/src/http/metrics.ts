import type { FastifyInstance } from 'fastify'
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client'

/** Prometheus metrics: request counts and latencies by route, plus the process defaults. */
export function registerMetrics(app: FastifyInstance): Registry {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'onramp_' })
  const requests = new Counter({
    name: 'onramp_http_requests_total',
    help: 'HTTP requests by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  })
  const duration = new Histogram({
    name: 'onramp_http_request_duration_seconds',
    help: 'HTTP request latency by route',
    labelNames: ['route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  })
  // Labelled children by label values: prom-client hashes a label object on every call otherwise.
  const counters = new Map<string, ReturnType<typeof requests.labels>>()
  const timers = new Map<string, ReturnType<typeof duration.labels>>()
  app.addHook('onResponse', (request, reply, done) => {
    // The route pattern, never the raw URL: tenant ids stay bounded, tokens never become labels.
    const route = request.routeOptions.url ?? 'unmatched'
    const key = `${route} ${request.method} ${reply.statusCode}`
    let counter = counters.get(key)
    if (!counter) {
      counter = requests.labels({ route, method: request.method, status: reply.statusCode })
      counters.set(key, counter)
    }
    counter.inc()
    let timer = timers.get(route)
    if (!timer) {
      timer = duration.labels({ route })
      timers.set(route, timer)
    }
    timer.observe(reply.elapsedTime / 1000)
    done()
  })
  return registry
}
