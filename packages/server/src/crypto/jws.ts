/** Compact JWS (RFC 7515 §7.1) encoding and decoding, without any key handling. */

const base64url = /^[A-Za-z0-9_-]*$/

export interface DecodedJWS {
  header: Record<string, unknown>
  payload: Record<string, unknown>
  signingInput: string
  signature: Buffer
}

export class JWSFormatError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'JWSFormatError'
  }
}

export function decodeJWS(token: string): DecodedJWS {
  const first = token.indexOf('.')
  const second = token.indexOf('.', first + 1)
  if (
    first <= 0 ||
    second <= first + 1 ||
    token.indexOf('.', second + 1) !== -1 ||
    second === token.length - 1
  ) {
    throw new JWSFormatError('not a compact JWS')
  }
  const headerPart = token.slice(0, first)
  const payloadPart = token.slice(first + 1, second)
  const signaturePart = token.slice(second + 1)
  if (!base64url.test(headerPart) || !base64url.test(payloadPart) || !base64url.test(signaturePart)) {
    throw new JWSFormatError('not base64url')
  }
  return {
    header: parseObject(headerPart, 'header'),
    payload: parseObject(payloadPart, 'payload'),
    signingInput: token.slice(0, second),
    signature: Buffer.from(signaturePart, 'base64url'),
  }
}

export function encodeJWSSigningInput(header: object, payload: object): string {
  return `${encodeJSON(header)}.${encodeJSON(payload)}`
}

export function encodeJSON(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

function parseObject(part: string, what: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
  } catch {
    throw new JWSFormatError(`${what} is not JSON`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new JWSFormatError(`${what} is not a JSON object`)
  }
  return value as Record<string, unknown>
}
