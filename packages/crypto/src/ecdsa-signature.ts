/**
 * ECDSA signature encodings. node:crypto signs and verifies fastest with DER signatures; JOSE
 * (RFC 7518 §3.4) carries the fixed-size concatenation r || s. Converting ourselves is several
 * times cheaper than asking node:crypto for `ieee-p1363`.
 */

export function derToJOSE(der: Buffer, size: number): Buffer {
  // SEQUENCE, then a length of one byte (or 0x81 + one byte for P-521).
  let offset = der[1]! & 0x80 ? 3 : 2
  const rLength = der[offset + 1]!
  const r = der.subarray(offset + 2, offset + 2 + rLength)
  offset += 2 + rLength
  const sLength = der[offset + 1]!
  const s = der.subarray(offset + 2, offset + 2 + sLength)
  const out = Buffer.alloc(size * 2)
  copyInteger(r, out, 0, size)
  copyInteger(s, out, size, size)
  return out
}

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

/** Copies a DER INTEGER's magnitude right-aligned into a fixed-size field. */
function copyInteger(integer: Buffer, out: Buffer, offset: number, size: number): void {
  let start = 0
  while (start < integer.length - 1 && integer[start] === 0) start++
  const magnitude = integer.subarray(start)
  magnitude.copy(out, offset + size - magnitude.length)
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
