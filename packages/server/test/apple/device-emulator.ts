import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createPrivateKey, randomBytes } from 'node:crypto'
import * as pkijs from 'pkijs'
import { build, type PlistValue, parse } from 'plist'
import { signedMessage } from './test-pki.ts'

/** A property list dictionary as the device sees one. */
export type Dict = { [key: string]: PlistValue }

/** A `WWW-Authenticate` challenge: its scheme and parameters. */
export interface ParsedChallenge {
  scheme: string
  params: Record<string, string>
}

/**
 * Parses one challenge (RFC 9110 §11.6.1) the way a lenient client does: parameters separated by
 * commas, by whitespace, or both, values quoted (with `\` escapes) or bare tokens.
 */
export function parseChallenge(header: string): ParsedChallenge {
  const match = /^\s*([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)\s*(.*)$/s.exec(header)
  assert.ok(match, `not a challenge: ${header}`)
  const params: Record<string, string> = {}
  const param = /\s*,?\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))\s*,?/g
  const rest = match[2]!
  let end = 0
  for (const found of rest.matchAll(param)) {
    assert.equal(found.index, end, `unparsed challenge text in: ${header}`)
    params[found[1]!.toLowerCase()] = found[2] === undefined ? found[3]! : found[2].replace(/\\(.)/g, '$1')
    end = found.index + found[0].length
  }
  assert.equal(rest.slice(end).trim(), '', `unparsed challenge text in: ${header}`)
  return { scheme: match[1]!, params }
}

export interface DeviceResponse {
  status: number
  headers: Headers
  body: Buffer
}

/** How a check-in or server message is sent: with which token and which `Mdm-Signature`. */
export interface MdmRequestOptions {
  /** The bearer token; null sends none. By default, the device's own. */
  token?: string | null
  /**
   * Whose identity signs the body: null signs nothing; by default, this device's own when its
   * profile asks for signed messages (`SignMessage`).
   */
  signedBy?: Pick<DeviceEmulator, 'signMessage'> | null
  /** An `Mdm-Signature` header sent as it is, instead of a signature. */
  signature?: string
}

/** The identity a profile installed: the certificate and its private key. */
interface DeviceIdentity {
  certificate: pkijs.Certificate
  privateKey: CryptoKey
}

export interface DiscoveredServer {
  Version: string
  BaseURL: string
}

/**
 * Plays an iPhone (or iPad, Mac…) in Apple's account-driven enrollment, request by request, as
 * Apple's documentation describes the client: service discovery (following redirects without
 * adding the query again), the signed first POST, the challenge, the second POST with the bearer
 * token, then the check-in and server protocols with that token on every request.
 */
export class DeviceEmulator {
  readonly userIdentifier: string
  readonly modelFamily: string
  /** The signed MachineInfo it posts to the enrollment URL. */
  readonly machineInfo: Buffer
  /** `UDID` for a device enrollment, `EnrollmentID` for a user enrollment. */
  readonly identifiers: { UDID?: string; EnrollmentID?: string }
  accessToken: string | undefined
  /** The OAuth 2 method's refresh token, from the token endpoint. */
  refreshToken: string | undefined
  profile: Dict | undefined
  /** Whether the profile came signed (CMS), its signature checked as the device does. */
  profileSigned = false
  /** The identity the installed profile's PKCS #12 payload carries. */
  identity: DeviceIdentity | undefined
  /** The identity a later profile (`InstallProfile`) replaced. */
  previousIdentity: DeviceIdentity | undefined
  /** The OAuth 2 method's parameters (from the challenge) and the `state` of its pending request. */
  #oauth2: { params: Record<string, string>; state: string } | undefined

  constructor(options: {
    userIdentifier: string
    modelFamily: string
    machineInfo: Buffer
    identifiers: { UDID?: string; EnrollmentID?: string }
  }) {
    this.userIdentifier = options.userIdentifier
    this.modelFamily = options.modelFamily
    this.machineInfo = options.machineInfo
    this.identifiers = options.identifiers
  }

  /** Step 2–3: `GET https://{domain}/.well-known/com.apple.remotemanagement`, on `origin`. */
  async discover(origin: string): Promise<{ response: DeviceResponse; server?: DiscoveredServer }> {
    const query = new URLSearchParams({
      'user-identifier': this.userIdentifier,
      'model-family': this.modelFamily,
    })
    let url = `${origin}/.well-known/com.apple.remotemanagement?${query}`
    for (let hops = 0; ; hops++) {
      assert.ok(hops < 5, 'too many redirects')
      const response = await request('GET', url)
      if (response.status >= 300 && response.status < 400) {
        // Apple's client follows the redirect as it is: it does not add its query again.
        url = new URL(response.headers.get('location')!, url).toString()
        continue
      }
      if (response.status !== 200) return { response }
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/)
      const document = JSON.parse(response.body.toString()) as { Servers: DiscoveredServer[] }
      assert.equal(document.Servers.length, 1)
      return { response, server: document.Servers[0]! }
    }
  }

  /** Step 4–5 (and 12–13 with a token): the signed MachineInfo to the `BaseURL`. */
  async postEnrollment(
    baseURL: string,
    options: { contentType?: string; body?: Buffer; token?: string } = {},
  ): Promise<DeviceResponse> {
    return request('POST', baseURL, {
      body: options.body ?? this.machineInfo,
      headers: {
        'content-type': options.contentType ?? 'application/pkcs7-signature',
        ...(options.token && { authorization: `Bearer ${options.token}` }),
      },
    })
  }

  /** Step 11: takes the access token from the sign-in's final redirect, as the web session does. */
  acceptAuthenticationResult(location: string): string {
    const url = new URL(location)
    assert.equal(url.protocol, 'apple-remotemanagement-user-login:')
    assert.equal(url.host, 'authentication-results')
    const token = url.searchParams.get('access-token')
    assert.ok(token, 'the result URL carries no access-token')
    this.accessToken = token
    return token
  }

  /**
   * The OAuth 2 method, step 6: the authorization URL the device opens in its web view, built from
   * the challenge's `authorization-url`, `client-id`, `redirect-url` and `scope`, with a `state` and
   * without PKCE.
   */
  oauth2AuthorizationURL(challenge: ParsedChallenge): string {
    assert.equal(challenge.scheme, 'Bearer')
    assert.equal(challenge.params.method, 'apple-oauth2')
    const { params } = challenge
    for (const name of ['authorization-url', 'token-url', 'redirect-url', 'client-id'])
      assert.ok(params[name], `the challenge has no ${name}`)
    const state = randomBytes(16).toString('base64url')
    this.#oauth2 = { params, state }
    const url = new URL(params['authorization-url']!)
    url.searchParams.set('response_type', 'code')
    url.searchParams.set('client_id', params['client-id']!)
    url.searchParams.set('redirect_uri', params['redirect-url']!)
    if (params.scope) url.searchParams.set('scope', params.scope)
    url.searchParams.set('state', state)
    return url.toString()
  }

  /**
   * The OAuth 2 method, step 11: catches the redirect to `redirect-url`, checks `state` (and `iss`
   * when given), and redeems the code at `token-url` as a public client: no verifier, no DPoP.
   */
  async acceptOAuth2Redirect(location: string, expectedIssuer: string): Promise<Dict> {
    const pending = this.#oauth2
    assert.ok(pending, 'no OAuth 2 sign-in pending')
    const url = new URL(location)
    const redirect = new URL(pending.params['redirect-url']!)
    assert.equal(`${url.protocol}${url.pathname}`, `${redirect.protocol}${redirect.pathname}`)
    assert.equal(url.searchParams.get('error'), null, location)
    assert.equal(url.searchParams.get('state'), pending.state)
    const iss = url.searchParams.get('iss')
    if (iss !== null) assert.equal(iss, expectedIssuer)
    const code = url.searchParams.get('code')
    assert.ok(code, 'the redirect carries no code')
    return this.#tokenRequest({
      grant_type: 'authorization_code',
      client_id: pending.params['client-id']!,
      redirect_uri: pending.params['redirect-url']!,
      code,
    })
  }

  /** The OAuth 2 method's silent refresh: `grant_type=refresh_token` at `token-url`. */
  async refreshOAuth2(): Promise<Dict> {
    const pending = this.#oauth2
    assert.ok(pending && this.refreshToken, 'nothing to refresh')
    return this.#tokenRequest({
      grant_type: 'refresh_token',
      client_id: pending.params['client-id']!,
      refresh_token: this.refreshToken,
    })
  }

  async #tokenRequest(form: Record<string, string>): Promise<Dict> {
    const response = await request('POST', this.#oauth2!.params['token-url']!, {
      body: Buffer.from(new URLSearchParams(form).toString()),
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    })
    const text = response.body.toString()
    assert.equal(response.status, 200, text)
    const body = JSON.parse(text) as Dict
    assert.equal(typeof body.access_token, 'string', text)
    assert.match(String(body.token_type), /^bearer$/i)
    this.accessToken = body.access_token as string
    if (typeof body.refresh_token === 'string') this.refreshToken = body.refresh_token
    return body
  }

  /**
   * Step 13: checks the profile as the device does before it installs it, and keeps it. A signed
   * profile (CMS SignedData, DER) is opened with OpenSSL, which checks its signature; whether its
   * signer is trusted is for the test to ask.
   */
  acceptProfile(response: DeviceResponse): Dict {
    assert.equal(response.status, 200, response.body.toString())
    assert.equal(response.headers.get('content-type'), 'application/x-apple-aspen-config')
    return this.#install(this.#open(response.body))
  }

  /**
   * An `InstallProfile` command's `Payload` that carries the enrollment profile again: with the
   * installed profile's `PayloadIdentifier`, it replaces that profile in place, identity included
   * (how an MDM server renews the device's identity).
   */
  installProfile(payload: Uint8Array): Dict {
    const profile = this.#open(Buffer.from(payload))
    assert.equal(profile.PayloadIdentifier, this.profile?.PayloadIdentifier, 'not the installed profile')
    this.previousIdentity = this.identity
    return this.#install(profile)
  }

  /** A profile's property list; a signed one (CMS SignedData, DER) is opened with OpenSSL. */
  #open(body: Buffer): Dict {
    this.profileSigned = body[0] === 0x30
    const plist = this.profileSigned
      ? execFileSync('openssl', ['cms', '-verify', '-inform', 'DER', '-noverify'], {
          input: body,
          stdio: ['pipe', 'pipe', 'pipe'],
        })
      : body
    return parse(plist.toString()) as Dict
  }

  #install(profile: Dict): Dict {
    this.profile = profile
    const pkcs12 = (profile.PayloadContent as Dict[]).find(
      (p) => p.PayloadType === 'com.apple.security.pkcs12',
    )
    this.identity =
      pkcs12 && unpackIdentity(Buffer.from(pkcs12.PayloadContent as Uint8Array), pkcs12.Password as string)
    return profile
  }

  /**
   * `Mdm-Signature` for a body, as the device makes it: the Base64 of a detached CMS SignedData
   * (RFC 5652) signed with its identity.
   */
  async signMessage(body: Buffer, identity = this.identity): Promise<string> {
    assert.ok(identity, 'the device has no identity to sign with')
    return (await signedMessage(body, identity, [identity], { detached: true })).toString('base64')
  }

  /** The profile's `com.apple.mdm` payload. */
  mdmPayload(): Dict {
    const content = (this.profile?.PayloadContent ?? []) as Dict[]
    const payload = content.find((p) => p.PayloadType === 'com.apple.mdm')
    assert.ok(payload, 'the profile has no com.apple.mdm payload')
    return payload
  }

  /** A check-in message (`PUT {CheckInURL}`), with this device's identifiers and the bearer token. */
  checkIn(message: Dict, options: MdmRequestOptions = {}): Promise<DeviceResponse> {
    return this.#mdmRequest(
      this.mdmPayload().CheckInURL as string,
      'application/x-apple-aspen-mdm-checkin',
      message,
      options,
    )
  }

  /** A server URL request (`PUT {ServerURL}`): `Idle`, or a command's result. */
  connect(message: Dict, options: MdmRequestOptions = {}): Promise<DeviceResponse> {
    return this.#mdmRequest(
      this.mdmPayload().ServerURL as string,
      'application/x-apple-aspen-mdm',
      message,
      options,
    )
  }

  async #mdmRequest(
    url: string,
    contentType: string,
    message: Dict,
    options: MdmRequestOptions,
  ): Promise<DeviceResponse> {
    const token = options.token === undefined ? this.accessToken : options.token
    const body = Buffer.from(build({ ...this.identifiers, ...message }))
    const signer =
      options.signedBy === undefined
        ? this.mdmPayload().SignMessage === true
          ? this
          : null
        : options.signedBy
    const signature = options.signature ?? (signer ? await signer.signMessage(body) : undefined)
    return request('PUT', url, {
      body,
      headers: {
        'content-type': contentType,
        ...(token && { authorization: `Bearer ${token}` }),
        ...(signature !== undefined && { 'mdm-signature': signature }),
      },
    })
  }
}

/**
 * The certificate and key of a PKCS #12 file, read by OpenSSL's command-line tool: a reader
 * independent of the server's own PKCS #12 code, as the device's is.
 */
function unpackIdentity(pkcs12: Buffer, password: string): DeviceIdentity {
  const pem = execFileSync('openssl', ['pkcs12', '-nodes', '-passin', 'env:PKCS12_PASSWORD'], {
    input: pkcs12,
    env: { ...process.env, PKCS12_PASSWORD: password },
  }).toString()
  const block = (label: string): Buffer => {
    const found = new RegExp(`-----BEGIN ${label}-----([^-]+)-----END ${label}-----`).exec(pem)
    assert.ok(found, `the PKCS #12 has no ${label}`)
    return Buffer.from(found[1]!.replace(/\s+/g, ''), 'base64')
  }
  const key = createPrivateKey({ key: block('PRIVATE KEY'), format: 'der', type: 'pkcs8' })
  const algorithm =
    key.asymmetricKeyType === 'ec'
      ? { name: 'ECDSA', namedCurve: 'P-256' }
      : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
  return {
    certificate: pkijs.Certificate.fromBER(new Uint8Array(block('CERTIFICATE'))),
    privateKey: key.toCryptoKey(algorithm, false, ['sign']) as CryptoKey,
  }
}

async function request(
  method: string,
  url: string,
  init: { body?: Buffer; headers?: Record<string, string> } = {},
): Promise<DeviceResponse> {
  const response = await fetch(url, {
    method,
    headers: { 'user-agent': 'DeviceManagementClient/1.0', ...init.headers },
    ...(init.body && { body: new Uint8Array(init.body) }),
    redirect: 'manual',
    signal: AbortSignal.timeout(10_000),
  })
  return {
    status: response.status,
    headers: response.headers,
    body: Buffer.from(await response.arrayBuffer()),
  }
}
