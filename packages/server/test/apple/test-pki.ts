import { execFileSync } from 'node:child_process'
import { createHash, randomBytes, webcrypto } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'

const rsa = {
  name: 'RSASSA-PKCS1-v1_5',
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: 'SHA-256',
}

/** A certificate and its key, for signing test messages. */
export interface TestIdentity {
  certificate: pkijs.Certificate
  privateKey: CryptoKey
  /** PEM of the certificate. */
  pem: string
}

/**
 * A stand-in for Apple's device PKI: a root, an intermediate and a device certificate. Validity
 * periods may lie in the past, as the real fixture's does.
 */
export async function testDevicePKI(options: { expired?: boolean } = {}): Promise<{
  root: TestIdentity
  intermediate: TestIdentity
  device: TestIdentity
}> {
  const root = await issue('Test Root CA', undefined, { ca: true })
  const intermediate = await issue('Test Device CA', root, { ca: true })
  const device = await issue('41B39CB1-EA4D-4F68-8FA6-F686B6FAB424', intermediate, {
    ca: false,
    expired: options.expired,
  })
  return { root, intermediate, device }
}

/** A certificate for `commonName` (and `uid`, as MDM push certificates name their topic). */
export async function issue(
  commonName: string,
  issuer: TestIdentity | undefined,
  options: { ca: boolean; expired?: boolean; uid?: string },
): Promise<TestIdentity> {
  const keys = (await webcrypto.subtle.generateKey(rsa, true, ['sign', 'verify'])) as CryptoKeyPair
  const certificate = new pkijs.Certificate()
  certificate.version = 2
  certificate.serialNumber = new asn1js.Integer({
    valueHex: Buffer.concat([Buffer.from([0x11]), randomBytes(8)]),
  })
  const name = new pkijs.RelativeDistinguishedNames({
    typesAndValues: [
      ...(options.uid === undefined
        ? []
        : [
            new pkijs.AttributeTypeAndValue({
              type: '0.9.2342.19200300.100.1.1',
              value: new asn1js.Utf8String({ value: options.uid }),
            }),
          ]),
      new pkijs.AttributeTypeAndValue({
        type: '2.5.4.3',
        value: new asn1js.Utf8String({ value: commonName }),
      }),
    ],
  })
  certificate.subject = name
  certificate.issuer = issuer ? issuer.certificate.subject : name
  const now = Date.now()
  certificate.notBefore.value = new Date(options.expired ? now - 3 * 365 * 86400_000 : now - 60_000)
  certificate.notAfter.value = new Date(options.expired ? now - 86400_000 : now + 365 * 86400_000)
  await certificate.subjectPublicKeyInfo.importKey(keys.publicKey)
  certificate.extensions = [
    new pkijs.Extension({
      extnID: '2.5.29.19',
      critical: true,
      extnValue: new pkijs.BasicConstraints({ cA: options.ca }).toSchema().toBER(false),
    }),
    new pkijs.Extension({
      extnID: '2.5.29.14',
      extnValue: new asn1js.OctetString({
        valueHex: createHash('sha1')
          .update(certificate.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView)
          .digest(),
      }).toBER(false),
    }),
  ]
  await certificate.sign(issuer ? issuer.privateKey : keys.privateKey, 'SHA-256')
  const der = Buffer.from(certificate.toSchema(true).toBER(false))
  const pem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`
  return { certificate, privateKey: keys.privateKey, pem: pem.replace('\n\n', '\n') }
}

/**
 * A CMS SignedData over `content`, signed (with signed attributes, as devices do) by `signer`,
 * carrying `chain`. The content is attached unless `detached` (as in an `Mdm-Signature`). With
 * `signer` undefined, the message has no signer at all.
 */
export async function signedMessage(
  content: Buffer,
  signer: Pick<TestIdentity, 'certificate' | 'privateKey'> | undefined,
  chain: readonly Pick<TestIdentity, 'certificate'>[] = [],
  options: { detached?: boolean } = {},
): Promise<Buffer> {
  const signedData = new pkijs.SignedData({
    version: 1,
    encapContentInfo: new pkijs.EncapsulatedContentInfo({
      eContentType: '1.2.840.113549.1.7.1',
      ...(!options.detached && { eContent: new asn1js.OctetString({ valueHex: content }) }),
    }),
    certificates: chain.map((c) => c.certificate),
  })
  if (signer) {
    const digest = createHash('sha256').update(content).digest()
    signedData.signerInfos.push(
      new pkijs.SignerInfo({
        version: 1,
        sid: new pkijs.IssuerAndSerialNumber({
          issuer: signer.certificate.issuer,
          serialNumber: signer.certificate.serialNumber,
        }),
        signedAttrs: new pkijs.SignedAndUnsignedAttributes({
          type: 0,
          attributes: [
            new pkijs.Attribute({
              type: '1.2.840.113549.1.9.3',
              values: [new asn1js.ObjectIdentifier({ value: '1.2.840.113549.1.7.1' })],
            }),
            new pkijs.Attribute({
              type: '1.2.840.113549.1.9.4',
              values: [new asn1js.OctetString({ valueHex: digest })],
            }),
          ],
        }),
      }),
    )
    const detached = options.detached ? new Uint8Array(content).buffer : undefined
    await signedData.sign(signer.privateKey, 0, 'SHA-256', detached)
  }
  const contentInfo = new pkijs.ContentInfo({
    contentType: '1.2.840.113549.1.7.2',
    content: signedData.toSchema(true),
  })
  return Buffer.from(contentInfo.toSchema().toBER(false))
}

/** A MachineInfo property list, as devices sign it. */
export function machineInfoPlist(fields: Record<string, string>): Buffer {
  const entries = Object.entries(fields)
    .map(([key, value]) => `\t<key>${key}</key>\n\t<string>${value}</string>\n`)
    .join('')
  return Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n<plist version="1.0">\n<dict>\n${entries}</dict>\n</plist>\n`,
  )
}

/**
 * An MDM push certificate as Apple issues them (subject `UID` the topic, `CN` `APSP:{id}`), made
 * by OpenSSL's command-line tool as `{name}.crt` and `{name}.key` in `folder`.
 */
export function pushCertificate(
  folder: string,
  name: string,
  id: string,
): OpenSSLCertificate & { topic: string } {
  const topic = `com.apple.mgmt.External.${id}`
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '30',
      '-subj',
      `/UID=${topic}/CN=APSP:${id}/C=US`,
    ].concat(['-keyout', `${name}.key`, '-out', `${name}.crt`]),
    { cwd: folder, stdio: 'pipe' },
  )
  return { topic, ...openSSLFiles(folder, name) }
}

/** A certificate made with OpenSSL's command-line tool: its files and their PEM text. */
export interface OpenSSLCertificate {
  certificatePath: string
  keyPath: string
  certificate: string
  privateKey: string
}

/** `{name}.crt` and `{name}.key` in `folder`, as OpenSSL's command-line tool wrote them. */
function openSSLFiles(folder: string, name: string): OpenSSLCertificate {
  const [certificatePath, keyPath] = [join(folder, `${name}.crt`), join(folder, `${name}.key`)]
  return {
    certificatePath,
    keyPath,
    certificate: readFileSync(certificatePath, 'utf8'),
    privateKey: readFileSync(keyPath, 'utf8'),
  }
}

/**
 * What an administrator might upload to sign enrollment profiles, made with OpenSSL's
 * command-line tool: a root and an intermediate CA, an RSA signer under the intermediate (valid
 * ten days longer than it, as a signer may be), an EC P-256 signer under the root, and two the server must refuse: a certificate whose key usage
 * allows only key encipherment, and a P-521 key.
 */
export function profileSigningPKI(folder: string) {
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: folder, stdio: 'pipe' })
  const files = (name: string) => openSSLFiles(folder, name)
  const keyArgs = (key: string) =>
    key === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', `ec_paramgen_curve:${key}`]
  const make = (name: string, key: string, issuer: string, extensions: string[], days = 30) => {
    openssl([
      'req',
      ...keyArgs(key),
      '-nodes',
      '-subj',
      `/O=Initech/CN=${name}`,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
    ])
    writeFileSync(join(folder, `${name}.ext`), `${extensions.join('\n')}\n`)
    openssl([
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${issuer}.crt`,
      '-CAkey',
      `${issuer}.key`,
      '-days',
      String(days),
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.crt`,
    ])
  }
  const ca = ['basicConstraints=critical,CA:true', 'keyUsage=critical,keyCertSign,cRLSign']
  openssl([
    'req',
    '-x509',
    ...keyArgs('rsa'),
    '-nodes',
    '-days',
    '30',
    '-subj',
    '/CN=Test Profile Root',
    '-addext',
    ca[0]!,
    '-addext',
    ca[1]!,
    '-keyout',
    'root.key',
    '-out',
    'root.crt',
  ])
  make('intermediate', 'rsa', 'root', ca)
  make('signer', 'rsa', 'intermediate', ['keyUsage=critical,digitalSignature'], 40)
  make('ec-signer', 'P-256', 'root', ['keyUsage=critical,digitalSignature'])
  make('no-signature', 'rsa', 'root', ['keyUsage=critical,keyEncipherment'])
  make('p521', 'P-521', 'root', [])
  return {
    root: files('root'),
    intermediate: files('intermediate'),
    signer: files('signer'),
    ecSigner: files('ec-signer'),
    noSignature: files('no-signature'),
    p521: files('p521'),
  }
}

/** The identity's private key as unencrypted PKCS #8 PEM. */
export async function privateKeyPEM(identity: Pick<TestIdentity, 'privateKey'>): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', identity.privateKey))
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64')}\n-----END PRIVATE KEY-----\n`
}
