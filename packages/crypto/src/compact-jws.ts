/** Compact JWS (RFC 7515 §7.1) encoding and decoding, without any key handling. */

const base64urlPattern = /^[A-Za-z0-9_-]+$/

export interface CompactJWSParts {
  /** The protected header, still base64url: identical for every JWT one signer makes, so a cache key. */
  encodedHeader: string
  encodedPayload: string
  /** ASCII bytes of `header.payload`. */
  signingInput: Buffer
  signature: Buffer
}

/** The three parts of a compact JWS, or undefined when it is not one. */
export function splitCompactJWS(value: string): CompactJWSParts | undefined {
  const first = value.indexOf('.')
  const second = value.indexOf('.', first + 1)
  if (first <= 0 || second <= first + 1 || second === value.length - 1) return undefined
  if (value.indexOf('.', second + 1) !== -1) return undefined
  const encodedHeader = value.slice(0, first)
  const encodedPayload = value.slice(first + 1, second)
  const encodedSignature = value.slice(second + 1)
  if (
    !base64urlPattern.test(encodedHeader) ||
    !base64urlPattern.test(encodedPayload) ||
    !base64urlPattern.test(encodedSignature)
  ) {
    return undefined
  }
  return {
    encodedHeader,
    encodedPayload,
    signingInput: Buffer.from(value.slice(0, second), 'latin1'),
    signature: Buffer.from(encodedSignature, 'base64url'),
  }
}

/** A base64url JSON object, or undefined when it is not one. */
export function decodeJSONObject(encoded: string): Record<string, unknown> | undefined {
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'))
  } catch {
    return undefined
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined
}

export interface DecodedJWS {
  header: Record<string, unknown>
  payload: Record<string, unknown>
  signingInput: Buffer
  signature: Buffer
}

export class JWSFormatError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'JWSFormatError'
  }
}

/** Splits and decodes a compact JWS whose header and payload are JSON objects; throws `JWSFormatError`. */
export function decodeJWS(token: string): DecodedJWS {
  const parts = splitCompactJWS(token)
  if (!parts) throw new JWSFormatError('not a compact JWS')
  const header = decodeJSONObject(parts.encodedHeader)
  if (!header) throw new JWSFormatError('header is not a JSON object')
  const payload = decodeJSONObject(parts.encodedPayload)
  if (!payload) throw new JWSFormatError('payload is not a JSON object')
  return { header, payload, signingInput: parts.signingInput, signature: parts.signature }
}

export function encodeJWSSigningInput(header: object, payload: object): string {
  return `${encodeJSON(header)}.${encodeJSON(payload)}`
}

export function encodeJSON(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}
