import { mediaType } from './content-type.ts'

/** A decrypted body that does not parse: a 400 for the framework's error handler, like its own parsers'. */
export class PlaintextBodyError extends Error {
  readonly statusCode = 400
  readonly status = 400
  readonly expose = true

  constructor(message: string) {
    super(message)
    this.name = 'PlaintextBodyError'
  }
}

/**
 * A decrypted body as the integrations hand it to the application, like their own parsers would:
 * JSON media types parsed, text and forms as a string, anything else as a Buffer.
 */
export function parsePlaintext(contentType: string, plaintext: Uint8Array): unknown {
  const type = mediaType(contentType)
  const bytes = Buffer.from(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength)
  if (type === 'application/json' || type.endsWith('+json')) {
    try {
      return JSON.parse(bytes.toString('utf8'))
    } catch {
      throw new PlaintextBodyError('the decrypted body is not valid JSON')
    }
  }
  if (type.startsWith('text/') || type === 'application/x-www-form-urlencoded') return bytes.toString('utf8')
  return bytes
}
