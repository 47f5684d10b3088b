import Fastify, { type FastifyInstance, LogController } from 'fastify'
import { appleRoutes } from '../apple/http/apple-routes.ts'
import type { Services } from '../domain/services.ts'
import { registerCORS } from './cors.ts'
import { handleClientError, registerErrorHandler } from './error-handler.ts'
import { registerFormBodyParser } from './form-body.ts'
import { loginRoutes } from './login/login-routes.ts'
import { registerMetrics } from './metrics.ts'
import { appConfigRoute } from './routes/app-config.ts'
import { discoveryRoutes, rootDiscoveryRoute } from './routes/discovery.ts'
import { healthRoutes, metricsRoute } from './routes/health.ts'
import { introspectionRoute } from './routes/introspection.ts'
import { jwksRoute } from './routes/jwks.ts'
import { parRoute } from './routes/par.ts'
import { profileRoutes } from './routes/profile.ts'
import { profileMergeRoute } from './routes/profile-merge.ts'
import { revocationRoute } from './routes/revocation.ts'
import { tokenRoute } from './routes/token.ts'
import { userinfoRoute } from './routes/userinfo.ts'
import { resolveTenant } from './tenant-context.ts'

export interface AppOptions {
  services: Services
  logLevel: string
  bodyLimit: number
  /** Seconds a client has to send a whole request. */
  requestTimeout: number
  trustProxy: boolean
}

/** Logs never carry credentials, whatever a handler passes the logger. */
const redact = [
  'req.headers.authorization',
  'req.headers.dpop',
  'req.headers.cookie',
  '*.token',
  '*.refresh_token',
  '*.client_secret',
  '*.password',
  '*.anonymous_token',
  '*.code_verifier',
]

export function createHTTPServer(options: {
  logLevel: string
  bodyLimit: number
  requestTimeout: number
  trustProxy: boolean
}): FastifyInstance {
  // Fastify leaves Node's request timeout off: a client trickling a body would hold its socket
  // for good. Node enforces the timeouts when it checks its connections, every 30 s by default:
  // here every quarter of the timeout, so that a short one means what it says.
  const requestTimeout = options.requestTimeout * 1000
  const app = Fastify({
    requestTimeout,
    http: {
      headersTimeout: Math.min(60_000, requestTimeout),
      connectionsCheckingInterval: Math.min(30_000, Math.max(250, requestTimeout / 4)),
    },
    logger: { level: options.logLevel, redact },
    // Per-request access logs cost throughput; metrics count requests, and errors are logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit,
    trustProxy: options.trustProxy,
    return503OnClosing: true,
    clientErrorHandler: handleClientError,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  })
  // One logger for every request instead of a child per request (its redaction setup is costly
  // on the token endpoint's hot path); the error handler names the request id itself.
  app.setChildLoggerFactory((logger) => logger)
  registerErrorHandler(app)
  registerFormBodyParser(app)
  return app
}

/**
 * The public server: per-tenant OAuth endpoints under `/t/{tenant}`, discovery, health, and the
 * metrics of its requests, served at `/metrics` here unless `metricsOn` names another server (the
 * admin port's).
 */
export function buildApp(options: AppOptions & { metricsOn?: FastifyInstance }): FastifyInstance {
  const { services } = options
  const app = createHTTPServer(options)
  const metrics = registerMetrics(app, {
    appleCertificateExpiries: () => services.apple.configs.certificateExpiries(),
  })
  metricsRoute(options.metricsOn ?? app, metrics)
  healthRoutes(app, services)
  app.register(async (root) => {
    resolveTenant(root, services)
    rootDiscoveryRoute(root, services)
  })
  app.register(
    async (tenantApp) => {
      registerCORS(tenantApp, services)
      resolveTenant(tenantApp, services)
      discoveryRoutes(tenantApp, services)
      jwksRoute(tenantApp, services)
      tokenRoute(tenantApp, services)
      revocationRoute(tenantApp, services)
      introspectionRoute(tenantApp, services)
      userinfoRoute(tenantApp, services)
      appConfigRoute(tenantApp, services)
      profileRoutes(tenantApp, services)
      parRoute(tenantApp, services)
      loginRoutes(tenantApp, services)
      profileMergeRoute(tenantApp, services)
    },
    { prefix: '/t/:tenant' },
  )
  appleRoutes(app, services)
  return app
}
