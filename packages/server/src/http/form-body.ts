import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { InvalidRequest } from '../errors/oauth-error.ts'

/** Characters a form parameter may have: no OAuth parameter comes near it (tokens are ~1 KB). */
export const maxFormValueLength = 8192

/**
 * `application/x-www-form-urlencoded` as OAuth reads it: a flat object of strings, where a
 * parameter sent twice is an error (RFC 6749 §3.1) rather than an array, and so is a value over
 * `maxFormValueLength` characters.
 */
export function registerFormBodyParser(app: FastifyInstance): void {
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => {
      const params: Record<string, string> = Object.create(null)
      for (const [name, value] of new URLSearchParams(body as string)) {
        if (name in params) {
          done(new InvalidRequest(`parameter "${name.slice(0, 100)}" is repeated`), undefined)
          return
        }
        if (value.length > maxFormValueLength) {
          done(
            new InvalidRequest(`parameter "${name.slice(0, 100)}" is over ${maxFormValueLength} characters`),
            undefined,
          )
          return
        }
        params[name] = value
      }
      done(null, params)
    },
  )
}

/**
 * A `preValidation` hook for the OAuth endpoints, which take form bodies only (RFC 6749 §3.2,
 * RFC 7009 §2.1, RFC 7662 §2.1): a body of another type (JSON, which the server parses for
 * other routes) is refused rather than read as if it were the form. A callback hook: it has
 * nothing to wait for, and the token endpoint runs it on every request.
 */
export function requireFormBody(
  request: FastifyRequest,
  _reply: FastifyReply,
  done: HookHandlerDoneFunction,
): void {
  const type = request.headers['content-type']
  if (type !== undefined && !/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) {
    done(new InvalidRequest('the body must be application/x-www-form-urlencoded', { status: 415 }))
    return
  }
  done()
}
