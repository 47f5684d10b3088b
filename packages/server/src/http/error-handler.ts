import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyError, FastifyInstance } from 'fastify'
import { AppError } from '../errors/app-error.ts'
import { OAuthError } from '../errors/oauth-error.ts'

/**
 * The one place errors become responses: protocol errors in RFC 6749 §5.2 form, application
 * errors with their code, Fastify's own 4xx (bad JSON, body too large, wrong media type) as
 * `invalid_request`, and anything else as a logged `server_error` that reveals nothing.
 */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof OAuthError) {
      return reply
        .code(error.status)
        .headers({ ...error.headers, 'cache-control': 'no-store' })
        .send({ error: error.code, error_description: error.message })
    }
    if (error instanceof AppError) {
      return reply.code(error.status).send({ error: error.code, error_description: error.message })
    }
    if (error.validation) {
      return reply.code(400).send({
        error: 'invalid_request',
        error_description: `${error.validationContext ?? 'request'} ${error.message.replace(/^\S+ /, '')}`,
      })
    }
    const status = error.statusCode ?? 500
    if (status >= 400 && status < 500) {
      return reply.code(status).send({ error: 'invalid_request', error_description: error.message })
    }
    request.log.error({ err: error, reqId: request.id, route: request.routeOptions.url }, 'request failed')
    return reply
      .code(500)
      .send({ error: 'server_error', error_description: 'The server could not handle the request' })
  })

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({
      error: 'not_found',
      error_description: `no route for ${request.method} ${request.url.split('?')[0]}`,
    })
  })
}

/**
 * Fastify's `clientErrorHandler`: requests that Node's HTTP parser refuses before any route sees
 * them (malformed HTTP, headers over the size limit, timeouts) get the same JSON error body as
 * every other bad request, instead of Fastify's own shape.
 */
export function handleClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  const [status, description] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'request headers are too large']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'request timed out']
        : [400, 'malformed HTTP request']
  if (socket.writable) {
    const body = JSON.stringify({ error: 'invalid_request', error_description: description })
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    )
  }
  socket.destroy(error)
}
