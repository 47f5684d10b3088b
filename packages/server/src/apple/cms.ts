import * as pkijs from 'pkijs'

const signedDataType = '1.2.840.113549.1.7.2'

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
