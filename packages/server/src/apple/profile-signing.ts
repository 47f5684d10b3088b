import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto'
import * as pkijs from 'pkijs'
import { AppError } from '../errors/app-error.ts'
import type { CMSSigner } from './cms.ts'
import { pemOr } from './pem.ts'

const certificatePattern = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g
const keyUsageOID = '2.5.29.15'

/**
 * Checks what an administrator uploads to sign enrollment profiles with, so that a mistake shows
 * now and not as a profile the device refuses: PEM certificates, the signer's first and each
 * issued by the next; none expired; the signer's key usage (when it has one) allows signatures;
 * the private key is the signer's, RSA of 2048 bits or more or EC P-256 or P-384.
 */
export function readProfileSigner(chainPEM: string, privateKeyPEM: string, now: number): CMSSigner {
  const blocks = chainPEM.match(certificatePattern) ?? []
  if (blocks.length === 0) throw invalid('certificate must be PEM (one or more certificates)')
  const chain = blocks.map((block) => pemOr('certificate', () => new X509Certificate(block)))
  const privateKey = pemOr('private_key', () => createPrivateKey(privateKeyPEM))
  const signer = chain[0]!
  if (privateKey.type !== 'private' || !signer.checkPrivateKey(privateKey))
    throw invalid('the private key does not belong to the first certificate')
  if (!signingKey(privateKey))
    throw invalid('the key must be RSA (2048 bits or more) or EC on P-256 or P-384')
  for (const [i, certificate] of chain.entries()) {
    if (certificate.validToDate.getTime() <= now * 1000)
      throw invalid(`the certificate "${certificate.subject}" expired on ${certificate.validTo}`)
    const issuer = chain[i + 1]
    if (issuer && !(certificate.checkIssued(issuer) && certificate.verify(issuer.publicKey)))
      throw invalid(
        `the chain is out of order: "${certificate.subject}" is not issued by "${issuer.subject}" (signer first, then its issuers)`,
      )
  }
  if (!allowsSignatures(signer))
    throw invalid('the certificate’s key usage does not allow digital signatures')
  return { chain, privateKey }
}

/** The signer's certificate and chain without the key, for a view of what is configured. */
export function profileSigningChain(chainPEM: string): X509Certificate[] {
  return (chainPEM.match(certificatePattern) ?? []).map((block) => new X509Certificate(block))
}

function signingKey(key: KeyObject): boolean {
  const details = key.asymmetricKeyDetails
  if (key.asymmetricKeyType === 'rsa') return (details?.modulusLength ?? 0) >= 2048
  return key.asymmetricKeyType === 'ec' && ['prime256v1', 'secp384r1'].includes(details?.namedCurve ?? '')
}

/** RFC 5280 §4.2.1.3: without the extension any use is allowed; with it, `digitalSignature` (bit 0). */
function allowsSignatures(certificate: X509Certificate): boolean {
  const extension = pkijs.Certificate.fromBER(new Uint8Array(certificate.raw)).extensions?.find(
    (e) => e.extnID === keyUsageOID,
  )
  if (!extension) return true
  const bits = (extension.parsedValue as { valueBlock?: { valueHexView?: Uint8Array } } | undefined)
    ?.valueBlock?.valueHexView
  return bits !== undefined && bits.length > 0 && (bits[0]! & 0x80) !== 0
}

function invalid(message: string): AppError {
  return new AppError('invalid_input', message)
}
