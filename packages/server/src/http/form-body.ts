import type { FastifyInstance } from 'fastify'
import { InvalidRequest } from '../errors/oauth-error.ts'

/**
 * `application/x-www-form-urlencoded` as OAuth reads it: a flat object of strings, where a
 * parameter sent twice is an error (RFC 6749 §3.1) rather than an array.
 */
export function registerFormBodyParser(app: FastifyInstance): void {
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => {
      const params: Record<string, string> = Object.create(null)
      for (const [name, value] of new URLSearchParams(body as string)) {
        if (name in params) {
          done(new InvalidRequest(`parameter "${name}" is repeated`), undefined)
          return
        }
        params[name] = value
      }
      done(null, params)
    },
  )
}
