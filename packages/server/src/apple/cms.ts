import { createHash, type KeyObject, type X509Certificate } from 'node:crypto'
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'

const signedDataType = '1.2.840.113549.1.7.2'
const oids = {
  data: '1.2.840.113549.1.7.1',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
}

/** A CMS message refused before any signature is checked: not DER CMS, or CMS but not SignedData. */
export class CMSFormatError extends Error {
  readonly notSignedData: boolean
  constructor(notSignedData: boolean) {
    super(notSignedData ? 'the CMS message is not SignedData' : 'not a CMS message (DER)')
    this.name = 'CMSFormatError'
    this.notSignedData = notSignedData
  }
}

/** The SignedData (RFC 5652 §5) of a DER `ContentInfo`, as Apple devices sign what they send. */
export function parseSignedData(der: Uint8Array): pkijs.SignedData {
  let contentInfo: pkijs.ContentInfo
  try {
    contentInfo = pkijs.ContentInfo.fromBER(new Uint8Array(der))
  } catch {
    throw new CMSFormatError(false)
  }
  if (contentInfo.contentType !== signedDataType) throw new CMSFormatError(true)
  try {
    return new pkijs.SignedData({ schema: contentInfo.content })
  } catch {
    throw new CMSFormatError(false)
  }
}

/**
 * The first signer's certificate, taken from the message, if its signature verifies over the
 * message's own content or, for a detached signature, over `detachedContent`; else undefined.
 */
export async function verifiedSigner(
  signedData: pkijs.SignedData,
  detachedContent?: Uint8Array,
): Promise<pkijs.Certificate | undefined> {
  if (signedData.signerInfos.length === 0) return undefined
  try {
    const result = await signedData.verify({
      signer: 0,
      checkChain: false,
      extendedMode: true,
      ...(detachedContent && { data: new Uint8Array(detachedContent).buffer }),
    })
    return result.signatureVerified ? (result.signerCertificate ?? undefined) : undefined
  } catch {
    // pkijs throws for a digest mismatch or a missing signer certificate: a bad signature either way.
    return undefined
  }
}

/** Who signs: a certificate chain, the signer's own certificate first, and the signer's private key. */
export interface CMSSigner {
  chain: readonly X509Certificate[]
  privateKey: KeyObject
}

/**
 * `content` wrapped in a CMS SignedData (RFC 5652) that carries it, as configuration profiles are
 * signed: signed attributes (content type, message digest, signing time), the chain, SHA-256
 * (SHA-384 for a P-384 key) with RSA PKCS #1 v1.5 or ECDSA.
 */
export async function signContent(content: Uint8Array, signer: CMSSigner, now: Date): Promise<Buffer> {
  const [certificate, ...rest] = signer.chain.map((c) => pkijs.Certificate.fromBER(new Uint8Array(c.raw)))
  if (!certificate) throw new Error('a CMS signer needs its certificate')
  const { hash, key } = signingKey(signer.privateKey)
  const signedData = new pkijs.SignedData({
    version: 1,
    encapContentInfo: new pkijs.EncapsulatedContentInfo({
      eContentType: oids.data,
      eContent: new asn1js.OctetString({ valueHex: content }),
    }),
    certificates: [certificate, ...rest],
    signerInfos: [
      new pkijs.SignerInfo({
        version: 1,
        sid: new pkijs.IssuerAndSerialNumber({
          issuer: certificate.issuer,
          serialNumber: certificate.serialNumber,
        }),
        signedAttrs: new pkijs.SignedAndUnsignedAttributes({
          type: 0,
          attributes: [
            new pkijs.Attribute({
              type: oids.contentType,
              values: [new asn1js.ObjectIdentifier({ value: oids.data })],
            }),
            new pkijs.Attribute({ type: oids.signingTime, values: [new asn1js.UTCTime({ valueDate: now })] }),
            new pkijs.Attribute({
              type: oids.messageDigest,
              values: [
                new asn1js.OctetString({
                  valueHex: createHash(hash.digest).update(content).digest(),
                }),
              ],
            }),
          ],
        }),
      }),
    ],
  })
  await signedData.sign(key, 0, hash.webCrypto)
  const contentInfo = new pkijs.ContentInfo({
    contentType: signedDataType,
    content: signedData.toSchema(true),
  })
  return Buffer.from(contentInfo.toSchema().toBER(false))
}

/** The signing key as WebCrypto takes it (what pkijs signs with) and its hash: SHA-384 for P-384 only. */
function signingKey(privateKey: KeyObject): {
  hash: { webCrypto: string; digest: string }
  key: CryptoKey
} {
  const p384 = privateKey.asymmetricKeyDetails?.namedCurve === 'secp384r1'
  const hash = p384 ? { webCrypto: 'SHA-384', digest: 'sha384' } : { webCrypto: 'SHA-256', digest: 'sha256' }
  const algorithm =
    privateKey.asymmetricKeyType === 'rsa'
      ? { name: 'RSASSA-PKCS1-v1_5', hash: hash.webCrypto }
      : { name: 'ECDSA', namedCurve: p384 ? 'P-384' : 'P-256' }
  // node:crypto's CryptoKey is the global one; the DOM and Node type libraries differ in key usages only.
  const key = privateKey.toCryptoKey(algorithm, false, ['sign']) as unknown as CryptoKey
  return { hash, key }
}
