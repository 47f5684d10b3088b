import { X509Certificate } from 'node:crypto'
import { AppError } from '../errors/app-error.ts'
import { type PlistDict, toPlistDict } from './plist-values.ts'

/** `model-family` values a device sends to the well-known service discovery. */
export const ModelFamilies = ['iPhone', 'iPad', 'Mac', 'RealityDevice', 'AppleTV', 'Watch'] as const
export type ModelFamily = (typeof ModelFamilies)[number]

/** The `Version` of a discovery answer: a user enrollment (BYOD) or a device enrollment. */
export const EnrollmentTypes = ['mdm-byod', 'mdm-adde'] as const
export type EnrollmentType = (typeof EnrollmentTypes)[number]

/** Per model family: an enrollment type, or `none` to refuse discovery for that family. */
export type FamilyEnrollment = EnrollmentType | 'none'

/** The two authentication methods of account-driven enrollment (the `method` of the challenge). */
export const AppleAuthenticationMethods = ['apple-as-web', 'apple-oauth2'] as const
export type AppleAuthenticationMethod = (typeof AppleAuthenticationMethods)[number]

/**
 * Account-driven enrollment is for iPhone, iPad, Mac and Vision Pro; Apple TV and Apple Watch
 * are refused unless an administrator says otherwise.
 */
export const defaultEnrollmentTypes: Readonly<Record<ModelFamily, FamilyEnrollment>> = {
  iPhone: 'mdm-byod',
  iPad: 'mdm-byod',
  Mac: 'mdm-byod',
  RealityDevice: 'mdm-byod',
  AppleTV: 'none',
  Watch: 'none',
}

/** Every access right of the `com.apple.mdm` payload (device enrollments only). */
export const allAccessRights = 8191

/**
 * Apple's Enrollment SSO document, served as JSON at the URL of the `X-Apple-MDM-ESSO` header
 * (or, in developer mode, `X-Apple-MDM-ESSO-Developer`). Keys are Apple's.
 */
export interface EnrollmentSSODocument {
  iTunesStoreID?: number
  AppIDs?: string[]
  AssociatedDomains?: string[]
  AssociatedDomainsEnableDirectDownloads?: boolean
  ConfigurationProfile?: string
  Declarations?: string[]
}

/**
 * Where the identity of the `com.apple.mdm` payload comes from: a PKCS #12 issued by the tenant's
 * own device CA, or a SCEP or ACME payload that the device runs against another CA.
 */
export type IdentityIssuance =
  | { type: 'pkcs12'; keyType: 'ec' | 'rsa' }
  /** `payload` is the SCEP payload's `PayloadContent` dictionary. */
  | { type: 'scep'; payload: PlistDict }
  /** `payload` holds the ACME payload's keys; `ClientIdentifier` defaults to the enrollment id. */
  | { type: 'acme'; payload: PlistDict }

export interface AppleSettings {
  /** Lower-case domains: a `user-identifier` at one of them selects this tenant. */
  managedDomains: string[]
  enrollmentTypes: Record<ModelFamily, FamilyEnrollment>
  authenticationMethod: AppleAuthenticationMethod
  /** The tenant's public client for Apple devices: OAuth 2 sign-in, and every enrollment token. */
  clientId: string
  /** APNs topic of the MDM push certificate (`com.apple.mgmt.…`). */
  topic: string
  organization: string | undefined
  /** `AccessRights` of device enrollments; user enrollments carry none. */
  accessRights: number
  enrollmentSSO: EnrollmentSSODocument | undefined
  enrollmentSSODeveloper: EnrollmentSSODocument | undefined
  identity: IdentityIssuance
  /**
   * PEM certificates the device identity that signs the first request must chain to (Apple's
   * root); empty: the signature is checked, the chain is not.
   */
  deviceTrustAnchors: string[]
}

export type AppleSettingsInput = Pick<AppleSettings, 'managedDomains' | 'topic'> &
  Partial<Omit<AppleSettings, 'managedDomains' | 'topic' | 'enrollmentTypes'>> & {
    enrollmentTypes?: Partial<Record<ModelFamily, FamilyEnrollment>>
  }

export const defaultAppleClientId = 'apple-enrollment'

const domainPattern = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/

/** A lower-case fully qualified domain name, as user identifiers end with. */
export function isDomainName(value: string): boolean {
  return domainPattern.test(value)
}
const clientIdPattern = /^[A-Za-z0-9._~-]{1,128}$/
const topicPattern = /^com\.apple\.mgmt\.[\x21-\x7e]{1,200}$/

/** Checks and completes an administrator's Apple settings; the first problem is an `invalid_input`. */
export function validateAppleSettings(input: AppleSettingsInput): AppleSettings {
  const invalid = (message: string): AppError => new AppError('invalid_input', message)
  if (!Array.isArray(input.managedDomains) || input.managedDomains.length === 0)
    throw invalid('managed_domains must list at least one domain')
  const managedDomains = [...new Set(input.managedDomains.map((d) => String(d).toLowerCase()))]
  for (const domain of managedDomains) {
    if (!isDomainName(domain)) throw invalid(`"${domain}" is not a fully qualified domain name`)
  }

  const enrollmentTypes = { ...defaultEnrollmentTypes }
  for (const [family, type] of Object.entries(input.enrollmentTypes ?? {})) {
    if (!(ModelFamilies as readonly string[]).includes(family))
      throw invalid(`enrollment_types: unknown model family "${family}"`)
    if (type !== 'none' && !(EnrollmentTypes as readonly string[]).includes(type as string))
      throw invalid(`enrollment_types.${family} must be mdm-byod, mdm-adde or none`)
    enrollmentTypes[family as ModelFamily] = type as FamilyEnrollment
  }

  const authenticationMethod = input.authenticationMethod ?? 'apple-as-web'
  if (!AppleAuthenticationMethods.includes(authenticationMethod))
    throw invalid('authentication_method must be apple-as-web or apple-oauth2')
  const clientId = input.clientId ?? defaultAppleClientId
  if (!clientIdPattern.test(clientId)) throw invalid('client_id must be 1–128 URL-safe characters')
  if (!topicPattern.test(input.topic ?? ''))
    throw invalid('apns_topic must start with com.apple.mgmt. (the topic of the MDM push certificate)')
  const organization = input.organization
  if (organization !== undefined && (organization.length === 0 || organization.length > 200))
    throw invalid('organization must be 1–200 characters')

  const accessRights = input.accessRights ?? allAccessRights
  if (
    !Number.isInteger(accessRights) ||
    accessRights < 1 ||
    accessRights > allAccessRights ||
    (accessRights & 2 && !(accessRights & 1)) ||
    (accessRights & 128 && !(accessRights & 64))
  ) {
    throw invalid('access_rights must be 1–8191, with 1 when 2 is set and 64 when 128 is set')
  }

  return {
    managedDomains,
    enrollmentTypes,
    authenticationMethod,
    clientId,
    topic: input.topic,
    organization,
    accessRights,
    enrollmentSSO: input.enrollmentSSO && validateSSODocument(input.enrollmentSSO, 'enrollment_sso'),
    enrollmentSSODeveloper:
      input.enrollmentSSODeveloper &&
      validateSSODocument(input.enrollmentSSODeveloper, 'enrollment_sso_developer'),
    identity: validateIdentity(input.identity ?? { type: 'pkcs12', keyType: 'rsa' }),
    deviceTrustAnchors: (input.deviceTrustAnchors ?? []).map(validateAnchor),
  }
}

/**
 * Apple's rules for the two documents: the standard one names the app by `iTunesStoreID` and must
 * not have `AppIDs`; the developer-mode one lists `AppIDs`. Both carry a `ConfigurationProfile`
 * or `Declarations`.
 */
function validateSSODocument(document: EnrollmentSSODocument, name: string): EnrollmentSSODocument {
  const invalid = (message: string): AppError => new AppError('invalid_input', `${name}: ${message}`)
  const developer = name === 'enrollment_sso_developer'
  const known = [
    'iTunesStoreID',
    'AppIDs',
    'AssociatedDomains',
    'AssociatedDomainsEnableDirectDownloads',
    'ConfigurationProfile',
    'Declarations',
  ]
  for (const key of Object.keys(document)) {
    if (!known.includes(key)) throw invalid(`unknown key "${key}"`)
  }
  const strings = (value: unknown): value is string[] =>
    Array.isArray(value) && value.every((v) => typeof v === 'string' && v.length > 0)
  if (developer) {
    if (!strings(document.AppIDs) || document.AppIDs.length === 0)
      throw invalid('AppIDs must list at least one App ID (team-id.bundle-id)')
  } else {
    if (!Number.isInteger(document.iTunesStoreID) || (document.iTunesStoreID ?? 0) <= 0)
      throw invalid('iTunesStoreID must be the App Store id of the Enrollment SSO app')
    if (document.AppIDs !== undefined) throw invalid('AppIDs belongs in the developer-mode document')
  }
  if (document.AssociatedDomains !== undefined && !strings(document.AssociatedDomains))
    throw invalid('AssociatedDomains must be a list of domains')
  if (
    document.AssociatedDomainsEnableDirectDownloads !== undefined &&
    typeof document.AssociatedDomainsEnableDirectDownloads !== 'boolean'
  )
    throw invalid('AssociatedDomainsEnableDirectDownloads must be a boolean')
  const base64 = /^[A-Za-z0-9+/]+={0,2}$/
  if (document.ConfigurationProfile !== undefined && !base64.test(document.ConfigurationProfile))
    throw invalid('ConfigurationProfile must be a Base64-encoded profile')
  if (
    document.Declarations !== undefined &&
    !(strings(document.Declarations) && document.Declarations.every((d) => base64.test(d)))
  )
    throw invalid('Declarations must be Base64-encoded declarations')
  if (document.ConfigurationProfile === undefined && document.Declarations === undefined)
    throw invalid('one of ConfigurationProfile and Declarations is required')
  return document
}

function validateIdentity(identity: IdentityIssuance): IdentityIssuance {
  const invalid = (message: string): AppError => new AppError('invalid_input', `identity: ${message}`)
  switch (identity.type) {
    case 'pkcs12':
      if (identity.keyType !== 'ec' && identity.keyType !== 'rsa') throw invalid('key_type must be ec or rsa')
      return { type: 'pkcs12', keyType: identity.keyType }
    case 'scep': {
      const payload = toPlistDict(identity.payload, 'identity.payload')
      if (typeof payload.URL !== 'string' || !/^https?:\/\//.test(payload.URL))
        throw invalid('a SCEP payload needs the URL of the SCEP server')
      return { type: 'scep', payload }
    }
    case 'acme': {
      const payload = toPlistDict(identity.payload, 'identity.payload')
      if (typeof payload.DirectoryURL !== 'string' || !payload.DirectoryURL.startsWith('https://'))
        throw invalid('an ACME payload needs an https DirectoryURL')
      for (const key of ['KeySize', 'KeyType', 'HardwareBound', 'Subject']) {
        if (payload[key] === undefined) throw invalid(`an ACME payload needs ${key}`)
      }
      return { type: 'acme', payload }
    }
    default:
      throw invalid('type must be pkcs12, scep or acme')
  }
}

function validateAnchor(pem: string): string {
  try {
    const certificate = new X509Certificate(pem)
    if (!certificate.ca) throw new Error('not a CA certificate')
    return certificate.toString()
  } catch {
    throw new AppError('invalid_input', 'device_trust_anchors must be PEM CA certificates')
  }
}
