import { createHash, randomBytes, webcrypto } from 'node:crypto'
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
import type { SecretBox } from '../crypto/secret-box.ts'
import type { AppleDeviceCA } from './apple-config-store.ts'
import { buildPKCS12 } from './pkcs12.ts'

type KeyType = AppleDeviceCA['keyType']

const algorithms: Readonly<Record<KeyType, RsaHashedKeyGenParams | EcKeyGenParams>> = {
  rsa: {
    name: 'RSASSA-PKCS1-v1_5',
    modulusLength: 2048,
    publicExponent: new Uint8Array([1, 0, 1]),
    hash: 'SHA-256',
  },
  ec: { name: 'ECDSA', namedCurve: 'P-256' },
}

const oids = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const

/** Years a tenant's device CA is valid; identities are issued for one year. */
const caYears = 10
const identityDays = 365

/** An identity for one enrollment profile: the PKCS #12 and what the profile and records need of it. */
export interface IssuedIdentity {
  pkcs12: Buffer
  password: string
  /** Hexadecimal. */
  serial: string
  /** The certificate's SHA-256 fingerprint, hexadecimal. */
  sha256: string
  /** When the certificate expires, in seconds since the epoch. */
  notAfter: number
}

/**
 * A tenant's own certificate authority for the identity payload of enrollment profiles: a
 * self-signed CA whose private key is sealed at rest, issuing one client identity per profile.
 * The key pair of each identity is made here and leaves only inside the PKCS #12.
 */
export class DeviceCertificateAuthority {
  readonly #box: SecretBox

  constructor(options: { secretBox: SecretBox }) {
    this.#box = options.secretBox
  }

  async create(
    tenantId: string,
    keyType: KeyType,
    options: { organization?: string; now: number },
  ): Promise<AppleDeviceCA> {
    const keys = (await webcrypto.subtle.generateKey(algorithms[keyType], true, [
      'sign',
      'verify',
    ])) as CryptoKeyPair
    const name = distinguishedName(`Onramp device CA (${tenantId})`, options.organization)
    const certificate = new pkijs.Certificate()
    const notBefore = new Date((options.now - 300) * 1000)
    fillCertificate(certificate, {
      subject: name,
      issuer: name,
      notBefore,
      notAfter: new Date(notBefore.getTime() + caYears * 365 * 86400_000),
    })
    await certificate.subjectPublicKeyInfo.importKey(keys.publicKey)
    const keyId = subjectKeyId(certificate)
    certificate.extensions = [
      extension(oids.basicConstraints, true, new pkijs.BasicConstraints({ cA: true, pathLenConstraint: 0 })),
      extension(oids.keyUsage, true, keyUsage({ keyCertSign: true, cRLSign: true, digitalSignature: true })),
      extension(oids.subjectKeyIdentifier, false, new asn1js.OctetString({ valueHex: keyId })),
    ]
    await certificate.sign(keys.privateKey, 'SHA-256')
    const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey))
    return {
      keyType,
      certificatePEM: pem('CERTIFICATE', certificateDER(certificate)),
      sealedPrivateKey: this.#box.seal(pem('PRIVATE KEY', pkcs8), sealContext(tenantId)),
    }
  }

  /** A client identity signed by the tenant's CA, as a password-protected PKCS #12. */
  async issueIdentity(
    tenantId: string,
    ca: AppleDeviceCA,
    options: { commonName: string; organization?: string; now: number },
  ): Promise<IssuedIdentity> {
    const caCertificate = pkijs.Certificate.fromBER(new Uint8Array(derOf(ca.certificatePEM)))
    const caKey = (await webcrypto.subtle.importKey(
      'pkcs8',
      new Uint8Array(derOf(this.#box.open(ca.sealedPrivateKey, sealContext(tenantId)))),
      ca.keyType === 'rsa'
        ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
        : { name: 'ECDSA', namedCurve: 'P-256' },
      false,
      ['sign'],
    )) as CryptoKey
    const keys = (await webcrypto.subtle.generateKey(algorithms[ca.keyType], true, [
      'sign',
      'verify',
    ])) as CryptoKeyPair
    const certificate = new pkijs.Certificate()
    const notBefore = new Date((options.now - 300) * 1000)
    const notAfter = new Date(notBefore.getTime() + identityDays * 86400_000)
    fillCertificate(certificate, {
      subject: distinguishedName(options.commonName, options.organization),
      issuer: caCertificate.subject,
      notBefore,
      notAfter,
    })
    await certificate.subjectPublicKeyInfo.importKey(keys.publicKey)
    certificate.extensions = [
      extension(oids.basicConstraints, true, new pkijs.BasicConstraints({ cA: false })),
      extension(
        oids.keyUsage,
        true,
        keyUsage({ digitalSignature: true, keyEncipherment: ca.keyType === 'rsa' }),
      ),
      extension(oids.extKeyUsage, false, new pkijs.ExtKeyUsage({ keyPurposes: [oids.clientAuth] })),
      extension(
        oids.subjectKeyIdentifier,
        false,
        new asn1js.OctetString({ valueHex: subjectKeyId(certificate) }),
      ),
      extension(
        oids.authorityKeyIdentifier,
        false,
        new pkijs.AuthorityKeyIdentifier({
          keyIdentifier: new asn1js.OctetString({ valueHex: subjectKeyId(caCertificate) }),
        }),
      ),
    ]
    await certificate.sign(caKey, 'SHA-256')
    const password = randomBytes(18).toString('base64url')
    const der = certificateDER(certificate)
    return {
      pkcs12: buildPKCS12({
        certificateDER: der,
        privateKeyPKCS8: Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)),
        password,
        friendlyName: options.commonName,
      }),
      password,
      serial: Buffer.from(certificate.serialNumber.valueBlock.valueHexView).toString('hex'),
      sha256: createHash('sha256').update(der).digest('hex'),
      notAfter: notAfter.getTime() / 1000,
    }
  }
}

function sealContext(tenantId: string): string {
  return `apple-device-ca:${tenantId}`
}

function fillCertificate(
  certificate: pkijs.Certificate,
  fields: {
    subject: pkijs.RelativeDistinguishedNames
    issuer: pkijs.RelativeDistinguishedNames
    notBefore: Date
    notAfter: Date
  },
): void {
  certificate.version = 2
  // Positive and 16 bytes long: RFC 5280 §4.1.2.2 allows at most 20.
  const serial = randomBytes(16)
  serial[0] = (serial[0]! & 0x7f) | 0x10
  certificate.serialNumber = new asn1js.Integer({ valueHex: serial })
  certificate.subject = fields.subject
  certificate.issuer = fields.issuer
  certificate.notBefore.value = fields.notBefore
  certificate.notAfter.value = fields.notAfter
}

/** One attribute per RDN (O, then CN): pkijs alone would put them all in one multi-valued RDN. */
function distinguishedName(
  commonName: string,
  organization: string | undefined,
): pkijs.RelativeDistinguishedNames {
  const attributes = [
    ...(organization ? [[oids.organization, organization] as const] : []),
    [oids.commonName, commonName] as const,
  ]
  const name = new asn1js.Sequence({
    value: attributes.map(
      ([type, value]) =>
        new asn1js.Set({
          value: [
            new pkijs.AttributeTypeAndValue({ type, value: new asn1js.Utf8String({ value }) }).toSchema(),
          ],
        }),
    ),
  })
  return pkijs.RelativeDistinguishedNames.fromBER(name.toBER(false))
}

function extension(
  extnID: string,
  critical: boolean,
  value: { toSchema(): asn1js.AsnType } | asn1js.AsnType,
): pkijs.Extension {
  const schema = 'toSchema' in value ? value.toSchema() : value
  return new pkijs.Extension({ extnID, critical, extnValue: schema.toBER(false) })
}

/** RFC 5280 §4.2.1.3 bits, in order. */
function keyUsage(usage: {
  digitalSignature?: boolean
  keyEncipherment?: boolean
  keyCertSign?: boolean
  cRLSign?: boolean
}): asn1js.BitString {
  let bits = 0
  if (usage.digitalSignature) bits |= 0x80
  if (usage.keyEncipherment) bits |= 0x20
  if (usage.keyCertSign) bits |= 0x04
  if (usage.cRLSign) bits |= 0x02
  let unused = 0
  while (unused < 7 && !(bits & (1 << unused))) unused++
  return new asn1js.BitString({ valueHex: new Uint8Array([bits]), unusedBits: unused })
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subject public key bits. */
function subjectKeyId(certificate: pkijs.Certificate): Buffer {
  return createHash('sha1')
    .update(certificate.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView)
    .digest()
}

function certificateDER(certificate: pkijs.Certificate): Buffer {
  return Buffer.from(certificate.toSchema(true).toBER(false))
}

function pem(label: string, der: Uint8Array): string {
  const base64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n')
  return `-----BEGIN ${label}-----\n${base64.replace(/\n$/, '')}\n-----END ${label}-----\n`
}

function derOf(pemText: string): Buffer {
  return Buffer.from(pemText.replace(/-----(BEGIN|END) [A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64')
}
