import { Type } from '@sinclair/typebox'

/** The OAuth error body, as every error response carries it. */
export const ErrorResponse = Type.Object({
  error: Type.String(),
  error_description: Type.Optional(Type.String()),
})

/** A form body: flat string parameters (repeats are refused by the parser). */
export const FormBody = Type.Record(Type.String(), Type.String({ maxLength: 8192 }))

export const TenantParams = Type.Object({ tenant: Type.String({ maxLength: 64 }) })
