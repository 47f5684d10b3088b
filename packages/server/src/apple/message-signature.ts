import { createHash } from 'node:crypto'
import { AppError } from '../errors/app-error.ts'
import { parseSignedData, verifiedSigner } from './cms.ts'

const base64Pattern = /^[A-Za-z0-9+/]+={0,2}$/

/**
 * Checks Apple's `Mdm-Signature` header, which a device whose profile says `SignMessage` adds to
 * every check-in and server message: the Base64 of a detached CMS SignedData over the body, made
 * with the identity the profile installed. The signer's certificate must be one of the identities
 * `accepted` (the enrollment's, and the one a renewal is installing), known by the fingerprints
 * recorded when they were issued, so a bearer token taken from the device does not let another
 * client speak for it. Returns the signer's fingerprint.
 */
export async function checkMessageSignature(
  header: string | undefined,
  body: Uint8Array,
  accepted: readonly string[],
): Promise<string> {
  if (header === undefined) throw refused('this enrollment’s messages must carry an Mdm-Signature')
  if (!base64Pattern.test(header)) throw refused('Mdm-Signature must be Base64')
  let signedData: ReturnType<typeof parseSignedData>
  try {
    signedData = parseSignedData(Buffer.from(header, 'base64'))
  } catch {
    throw refused('Mdm-Signature must be a CMS SignedData message')
  }
  if (signedData.encapContentInfo.eContent !== undefined)
    throw refused('Mdm-Signature must be a detached signature of the body')
  const signer = await verifiedSigner(signedData, body)
  if (!signer) throw refused('Mdm-Signature does not verify over the body')
  const fingerprint = createHash('sha256')
    .update(new Uint8Array(signer.toSchema(true).toBER(false)))
    .digest('hex')
  if (!accepted.includes(fingerprint))
    throw refused('Mdm-Signature is not made with the identity of this enrollment')
  return fingerprint
}

function refused(message: string): AppError {
  return new AppError('forbidden', message)
}
