import { Type } from '@sinclair/typebox'

/** The OAuth error body, as every error response carries it. */
export const ErrorResponse = Type.Object({
  error: Type.String(),
  error_description: Type.Optional(Type.String()),
})

/**
 * A form body: flat string parameters. The parser (form-body.ts) refuses repeats and values over
 * `maxFormValueLength`: it sees each value anyway, where a schema limit would count every
 * character of every token again on the token endpoint's hot path.
 */
export const FormBody = Type.Record(Type.String(), Type.String())

/** Text without control characters, which no id or name holds (PostgreSQL cannot even store a NUL byte). */
export const withoutControlCharacters = '^[^\\u0000-\\u001f\\u007f]+$'

/** A name or id in a path or a query, refused before any lookup when it could not be one. */
export function PathText(maxLength: number) {
  return Type.String({ minLength: 1, maxLength, pattern: withoutControlCharacters })
}

export const TenantParams = Type.Object({ tenant: PathText(64) })
