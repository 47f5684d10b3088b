import { Type } from '@sinclair/typebox'

/** The OAuth error body, as every error response carries it. */
export const ErrorResponse = Type.Object({
  error: Type.String(),
  error_description: Type.Optional(Type.String()),
})

/** A form body: flat string parameters (repeats are refused by the parser). */
export const FormBody = Type.Record(Type.String(), Type.String({ maxLength: 8192 }))

/**
 * A name or id in a path: no control characters, which no id holds (and PostgreSQL cannot even
 * store a NUL byte), so they are refused before any lookup.
 */
export function PathText(maxLength: number) {
  return Type.String({ minLength: 1, maxLength, pattern: '^[^\\u0000-\\u001f\\u007f]+$' })
}

export const TenantParams = Type.Object({ tenant: PathText(64) })
