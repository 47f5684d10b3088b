import { createCipheriv, createHash, createHmac, randomBytes } from 'node:crypto'
import * as asn1js from 'asn1js'

const oid = {
  data: '1.2.840.113549.1.7.1',
  sha1: '1.3.14.3.2.26',
  pbeWithSHAAnd3KeyTripleDESCBC: '1.2.840.113549.1.12.1.3',
  pkcs8ShroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
} as const

const iterations = 2048

/**
 * A PKCS #12 file (RFC 7292) holding one identity: the certificate in the clear, the PKCS #8
 * private key shrouded with pbeWithSHAAnd3-KeyTripleDES-CBC, and an HMAC-SHA-1 integrity MAC.
 * These legacy algorithms are deliberate: they are the most widely imported, while PBES2 (AES)
 * files are refused by older iOS and macOS releases. The password travels in the same profile
 * anyway, so the encryption is obfuscation, not protection.
 */
export function buildPKCS12(options: {
  certificateDER: Uint8Array
  privateKeyPKCS8: Uint8Array
  password: string
  friendlyName: string
}): Buffer {
  const password = bmpPassword(options.password)
  const localKeyId = createHash('sha1').update(options.certificateDER).digest()
  const attributes = new asn1js.Set({
    value: [
      attribute(oid.friendlyName, new asn1js.BmpString({ value: options.friendlyName })),
      attribute(oid.localKeyId, new asn1js.OctetString({ valueHex: localKeyId })),
    ],
  })

  const certBag = safeBag(
    oid.certBag,
    new asn1js.Sequence({
      value: [
        new asn1js.ObjectIdentifier({ value: oid.x509Certificate }),
        explicit(new asn1js.OctetString({ valueHex: options.certificateDER })),
      ],
    }),
    attributes,
  )

  const salt = randomBytes(8)
  const key = derive(password, salt, 1, 24)
  const iv = derive(password, salt, 2, 8)
  const cipher = createCipheriv('des-ede3-cbc', key, iv)
  const encryptedKey = Buffer.concat([cipher.update(options.privateKeyPKCS8), cipher.final()])
  const keyBag = safeBag(
    oid.pkcs8ShroudedKeyBag,
    new asn1js.Sequence({
      value: [
        new asn1js.Sequence({
          value: [
            new asn1js.ObjectIdentifier({ value: oid.pbeWithSHAAnd3KeyTripleDESCBC }),
            new asn1js.Sequence({
              value: [new asn1js.OctetString({ valueHex: salt }), new asn1js.Integer({ value: iterations })],
            }),
          ],
        }),
        new asn1js.OctetString({ valueHex: encryptedKey }),
      ],
    }),
    attributes,
  )

  const authenticatedSafe = der(
    new asn1js.Sequence({
      value: [
        dataContentInfo(der(new asn1js.Sequence({ value: [certBag] }))),
        dataContentInfo(der(new asn1js.Sequence({ value: [keyBag] }))),
      ],
    }),
  )
  const macSalt = randomBytes(8)
  const mac = createHmac('sha1', derive(password, macSalt, 3, 20))
    .update(authenticatedSafe)
    .digest()

  return der(
    new asn1js.Sequence({
      value: [
        new asn1js.Integer({ value: 3 }),
        dataContentInfo(authenticatedSafe),
        new asn1js.Sequence({
          value: [
            new asn1js.Sequence({
              value: [
                new asn1js.Sequence({
                  value: [new asn1js.ObjectIdentifier({ value: oid.sha1 }), new asn1js.Null()],
                }),
                new asn1js.OctetString({ valueHex: mac }),
              ],
            }),
            new asn1js.OctetString({ valueHex: macSalt }),
            new asn1js.Integer({ value: iterations }),
          ],
        }),
      ],
    }),
  )
}

/** RFC 7292 B.1: the password as a BMPString (UTF-16BE) with a two-byte terminator. */
function bmpPassword(password: string): Buffer {
  const bytes = Buffer.alloc((password.length + 1) * 2)
  for (let i = 0; i < password.length; i++) bytes.writeUInt16BE(password.charCodeAt(i), i * 2)
  return bytes
}

/** RFC 7292 B.2: the PKCS #12 key derivation with SHA-1 (`id` 1 key, 2 IV, 3 MAC key). */
function derive(password: Buffer, salt: Buffer, id: 1 | 2 | 3, length: number): Buffer {
  const u = 20
  const v = 64
  const stretch = (input: Buffer): Buffer => {
    const size = v * Math.ceil(input.length / v)
    const out = Buffer.alloc(size)
    for (let i = 0; i < size; i++) out[i] = input[i % input.length]!
    return out
  }
  const D = Buffer.alloc(v, id)
  const I = Buffer.concat([stretch(salt), stretch(password)])
  const blocks: Buffer[] = []
  for (let produced = 0; produced < length; produced += u) {
    let A = createHash('sha1').update(D).update(I).digest()
    for (let round = 1; round < iterations; round++) A = createHash('sha1').update(A).digest()
    blocks.push(A)
    const B = stretch(A)
    // I_j = (I_j + B + 1) mod 2^(8v), for each v-byte block I_j of I.
    for (let j = 0; j < I.length; j += v) {
      let carry = 1
      for (let k = v - 1; k >= 0; k--) {
        const sum = I[j + k]! + B[k]! + carry
        I[j + k] = sum & 0xff
        carry = sum >>> 8
      }
    }
  }
  return Buffer.concat(blocks).subarray(0, length)
}

function attribute(type: string, value: asn1js.AsnType): asn1js.Sequence {
  return new asn1js.Sequence({
    value: [new asn1js.ObjectIdentifier({ value: type }), new asn1js.Set({ value: [value] })],
  })
}

function safeBag(type: string, value: asn1js.AsnType, attributes: asn1js.Set): asn1js.Sequence {
  return new asn1js.Sequence({
    value: [new asn1js.ObjectIdentifier({ value: type }), explicit(value), attributes],
  })
}

function dataContentInfo(content: Buffer): asn1js.Sequence {
  return new asn1js.Sequence({
    value: [
      new asn1js.ObjectIdentifier({ value: oid.data }),
      explicit(new asn1js.OctetString({ valueHex: content })),
    ],
  })
}

/** `[0] EXPLICIT`. */
function explicit(value: asn1js.AsnType): asn1js.Constructed {
  return new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [value] })
}

function der(value: asn1js.AsnType): Buffer {
  return Buffer.from(value.toBER(false))
}
