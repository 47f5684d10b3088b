/** Errors outside the OAuth protocol (admin API, profile API, CLI, configuration). */
export const AppErrorCodes = {
  not_found: 404,
  conflict: 409,
  invalid_input: 400,
  unauthorized: 401,
  forbidden: 403,
  precondition_failed: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  temporarily_unavailable: 503,
} as const

export type AppErrorCode = keyof typeof AppErrorCodes

export class AppError extends Error {
  readonly code: AppErrorCode
  readonly status: number

  constructor(code: AppErrorCode, message: string) {
    super(message)
    this.name = 'AppError'
    this.code = code
    this.status = AppErrorCodes[code]
  }
}
