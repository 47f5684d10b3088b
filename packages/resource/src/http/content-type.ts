import { joseMediaType } from '../encryption/payload-encryption.ts'

/** The media type of a Content-Type value, lower-case, without parameters. */
export function mediaType(contentType: string | null | undefined): string {
  if (!contentType) return ''
  const semicolon = contentType.indexOf(';')
  return (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase()
}

/** Whether a Content-Type names a JOSE compact serialization (an encrypted body). */
export function isJOSE(contentType: string | null | undefined): boolean {
  return mediaType(contentType) === joseMediaType
}
