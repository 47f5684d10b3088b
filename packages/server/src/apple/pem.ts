import type { KeyObject } from 'node:crypto'
import { AppError } from '../errors/app-error.ts'

/** Reads PEM text; anything it is not becomes the administrator's error, naming the field. */
export function pemOr<T>(field: string, read: () => T): T {
  try {
    return read()
  } catch {
    throw new AppError('invalid_input', `${field} must be PEM (an unencrypted key)`)
  }
}

export function pkcs8PEM(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString()
}
