/**
 * JOSE (RFC 7518 §3.4) carries an ECDSA signature as the fixed-size concatenation r || s;
 * node:crypto verifies fastest with DER. Converting ourselves is several times cheaper than asking
 * node:crypto for `ieee-p1363`. Adapted from `packages/server/src/crypto/ecdsa-signature.ts`: this
 * package must not depend on the server.
 */
export function joseToDER(signature: Uint8Array, size: number): Buffer | undefined {
  if (signature.length !== size * 2) return undefined
  const r = integerBytes(signature.subarray(0, size))
  const s = integerBytes(signature.subarray(size))
  const bodyLength = 2 + r.length + 2 + s.length
  const header = bodyLength >= 0x80 ? [0x30, 0x81, bodyLength] : [0x30, bodyLength]
  const out = Buffer.allocUnsafe(header.length + bodyLength)
  out.set(header, 0)
  let offset = header.length
  out[offset++] = 0x02
  out[offset++] = r.length
  out.set(r, offset)
  offset += r.length
  out[offset++] = 0x02
  out[offset++] = s.length
  out.set(s, offset)
  return out
}

/** A big-endian unsigned integer as DER INTEGER content: minimal, with a 0x00 if the top bit is set. */
function integerBytes(value: Uint8Array): Uint8Array {
  let start = 0
  while (start < value.length - 1 && value[start] === 0) start++
  const trimmed = value.subarray(start)
  if (trimmed[0]! & 0x80) {
    const padded = new Uint8Array(trimmed.length + 1)
    padded.set(trimmed, 1)
    return padded
  }
  return trimmed
}
