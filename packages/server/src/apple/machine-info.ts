import { X509Certificate } from 'node:crypto'
import type * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
import { CMSFormatError, parseSignedData, verifiedSigner } from './cms.ts'
import { PlistError, parsePlistDict, plistString } from './plist-values.ts'

/**
 * What a device says about itself in the signed body of its enrollment request (Apple's
 * `MachineInfo`). User enrollments send only `LANGUAGE`, `PRODUCT` and `VERSION`.
 */
export interface MachineInfo {
  udid: string | undefined
  serialNumber: string | undefined
  /** `PRODUCT`, e.g. `iPhone12,1`. */
  product: string
  /** `VERSION`, the OS build, e.g. `19H12`. */
  osBuild: string
  osVersion: string | undefined
  language: string | undefined
}

/**
 * `malformed`: not a CMS message with attached content; `unsigned`: no signature; `signature`:
 * the signature does not verify (tampered content, wrong key); `untrusted`: the signer does not
 * chain to a configured anchor; `plist`: the signed content is not a valid MachineInfo.
 */
export type MachineInfoFailure = 'malformed' | 'unsigned' | 'signature' | 'untrusted' | 'plist'

export class MachineInfoRejected extends Error {
  readonly reason: MachineInfoFailure
  constructor(reason: MachineInfoFailure, message: string) {
    super(message)
    this.name = 'MachineInfoRejected'
    this.reason = reason
  }
}

const maxChainLength = 8

/**
 * Reads the CMS SignedData a device posts to the enrollment URL: checks the signature over the
 * attached content with the signer's certificate and, when anchors are given, that the
 * certificate chains to one of them through the certificates in the message. Validity periods
 * are not checked: a device's identity certificate may have expired while the device works on
 * (and the message carries no trusted time to check against).
 */
export async function readSignedMachineInfo(
  body: Uint8Array,
  options: { trustAnchors: readonly X509Certificate[] },
): Promise<MachineInfo> {
  let signedData: pkijs.SignedData
  try {
    signedData = parseSignedData(body)
  } catch (error) {
    if (error instanceof CMSFormatError && error.notSignedData)
      throw new MachineInfoRejected('unsigned', 'the body is a CMS message but not SignedData')
    throw new MachineInfoRejected('malformed', 'the body must be a CMS SignedData message (DER)')
  }
  const content = signedData.encapContentInfo.eContent as asn1js.OctetString | undefined
  if (!content) throw new MachineInfoRejected('malformed', 'the signed message has no attached content')
  if (signedData.signerInfos.length === 0)
    throw new MachineInfoRejected('unsigned', 'the message is not signed')

  const signer = await verifiedSigner(signedData)
  if (!signer) throw new MachineInfoRejected('signature', 'the signature does not verify')

  if (options.trustAnchors.length > 0) {
    const pool = (signedData.certificates ?? [])
      .filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate)
      .map(toX509)
    if (!chainsToAnchor(toX509(signer), pool, options.trustAnchors))
      throw new MachineInfoRejected('untrusted', 'the signing certificate does not chain to a trusted root')
  }

  try {
    const dict = parsePlistDict(new Uint8Array(content.getValue()))
    const product = plistString(dict, 'PRODUCT', 64)
    const osBuild = plistString(dict, 'VERSION', 64)
    if (!product || !osBuild) throw new PlistError('PRODUCT and VERSION are required')
    return {
      udid: plistString(dict, 'UDID', 128),
      serialNumber: plistString(dict, 'SERIAL', 64),
      product,
      osBuild,
      osVersion: plistString(dict, 'OS_VERSION', 64),
      language: plistString(dict, 'LANGUAGE', 64),
    }
  } catch (error) {
    if (error instanceof PlistError) throw new MachineInfoRejected('plist', `MachineInfo: ${error.message}`)
    throw error
  }
}

function toX509(certificate: pkijs.Certificate): X509Certificate {
  return new X509Certificate(Buffer.from(certificate.toSchema(true).toBER(false)))
}

/** Follows issuers through `pool` until a certificate is an anchor or issued by one. */
function chainsToAnchor(
  leaf: X509Certificate,
  pool: readonly X509Certificate[],
  anchors: readonly X509Certificate[],
): boolean {
  const issues = (issuer: X509Certificate, subject: X509Certificate): boolean =>
    issuer.ca && subject.checkIssued(issuer) && subject.verify(issuer.publicKey)
  let current = leaf
  for (let depth = 0; depth < maxChainLength; depth++) {
    if (anchors.some((a) => a.fingerprint256 === current.fingerprint256 || issues(a, current))) return true
    const issuer = pool.find((c) => c.fingerprint256 !== current.fingerprint256 && issues(c, current))
    if (!issuer) return false
    current = issuer
  }
  return false
}
