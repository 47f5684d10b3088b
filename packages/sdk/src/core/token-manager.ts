import { GrantType, TokenType } from '@onramp/protocol'
import type { Clock } from '../adapters/clock.ts'
import type { Lock } from '../adapters/lock.ts'
import { readJWTClaims } from '../crypto/jwt.ts'
import type { ExchangedToken } from '../events.ts'
import { withEnrollmentLock } from './enrollment-lock.ts'
import type { EnrollmentRecord, EnrollmentStore, VaultSecrets } from './enrollment-record.ts'
import { renewalTime } from './freshness.ts'
import { SdkFailure } from './sdk-failure.ts'
import { openSecrets, sealSecrets, type VaultKey } from './secret-vault.ts'
import type { TokenEndpoint } from './token-endpoint.ts'

export interface TokenManagerOptions {
  record: EnrollmentRecord
  secrets: VaultSecrets
  vaultKey: VaultKey
  deviceKey: CryptoKeyPair
  store: EnrollmentStore
  /** The namespace's lock, shared with the other tabs or processes that use it. */
  lock: Lock
  endpoint: TokenEndpoint
  clock: Clock
  /** Milliseconds before expiry at which a token is renewed. */
  expirySkew: number
  onRefreshed: (expiresAt: number) => void
}

/**
 * The IAM tokens of one unlocked enrollment. Two rotations of one refresh token revoke the family
 * (the server takes the second for a replay), so refreshes are single-flight within the manager
 * and run under the namespace's lock across tabs and processes (`#rotate`). A rotated refresh
 * token is saved, sealed in the enrollment record together with its access token, before that
 * access token is handed to anyone: if the save fails, the new tokens stay in memory and the save
 * is retried before the next use, so neither a crash nor a full disk loses the family silently.
 */
export class TokenManager {
  readonly deviceKey: CryptoKeyPair
  readonly #options: TokenManagerOptions
  #record: EnrollmentRecord
  #secrets: VaultSecrets
  #isSaved = true
  #refreshing: Promise<void> | undefined
  #saving: Promise<void> | undefined

  constructor(options: TokenManagerOptions) {
    this.#options = options
    this.deviceKey = options.deviceKey
    this.#record = options.record
    this.#secrets = options.secrets
  }

  get record(): EnrollmentRecord {
    return this.#record
  }

  /** Whether the IAM access token is there and not yet due for renewal. */
  isAccessTokenFresh(): boolean {
    const { accessToken, accessTokenReceivedAt, accessTokenExpiresAt } = this.#secrets
    if (accessToken === undefined || accessTokenExpiresAt === undefined) return false
    const receivedAt = accessTokenReceivedAt ?? accessTokenExpiresAt
    return this.#options.clock.now() < renewalTime(receivedAt, accessTokenExpiresAt, this.#options.expirySkew)
  }

  /** A fresh IAM access token, refreshing first when it is due. */
  async accessToken(): Promise<string> {
    if (!this.isAccessTokenFresh()) await this.refresh()
    await this.#ensureSaved()
    return this.#secrets.accessToken!
  }

  /**
   * The IAM access token itself, for the issuer's own APIs (profile attributes, userinfo): its
   * audience is the issuer already, so nothing is exchanged. `forceUpdate` refreshes it first.
   */
  async issuerToken(options: { forceUpdate: boolean }): Promise<ExchangedToken> {
    if (options.forceUpdate) await this.refresh()
    const accessToken = await this.accessToken()
    return {
      accessToken,
      tokenType: 'DPoP',
      audience: this.#record.issuer,
      ...(this.#record.scope !== undefined && { scope: this.#record.scope }),
      expiresAt: this.#secrets.accessTokenExpiresAt!,
    }
  }

  /** Rotates the refresh token for a new access token; joins a rotation already under way. */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#rotate().finally(() => {
      this.#refreshing = undefined
    })
    return this.#refreshing
  }

  /**
   * RFC 8693 exchange of the IAM access token for one audience. If the server refuses the
   * subject token (it expired in transit, or the server's clock is ahead), refresh once and retry.
   */
  async exchange(audience: string): Promise<ExchangedToken> {
    try {
      return await this.#exchange(await this.accessToken(), audience)
    } catch (error) {
      if (!(error instanceof SdkFailure && error.oauthError === 'invalid_grant')) throw error
    }
    await this.refresh()
    try {
      return await this.#exchange(await this.accessToken(), audience)
    } catch (error) {
      if (error instanceof SdkFailure && error.oauthError === 'invalid_grant')
        throw new SdkFailure('AccessDenied', error.message, { oauthError: 'invalid_grant' })
      throw error
    }
  }

  /**
   * Redeems an authorization code (progressive sign-in) with a proof of the same device key, under
   * the namespace's lock, and saves the person's tokens in the record before anyone uses them:
   * other tabs and processes then take them instead of rotating the anonymous refresh token, which
   * the server has revoked when the profile was attached. With `expectedSubject` (a person signing
   * in again), tokens of anyone else are revoked and refused, and the person's earlier family on
   * this device is revoked once the new one is saved.
   */
  async redeemCode(
    parameters: Record<string, string>,
    options: { expectedSubject: string | undefined },
  ): Promise<{ previousUserIdentifier: string }> {
    return withEnrollmentLock(this.#options.lock, async () => {
      await this.#ensureSaved()
      await this.#takeStoredTokens()
      const previousUserIdentifier = this.#record.userIdentifier
      const response = await this.#options.endpoint.request(
        { ...parameters, grant_type: GrantType.authorizationCode },
        this.deviceKey,
      )
      const claims = readJWTClaims(response.access_token)
      if (typeof claims?.sub !== 'string' || !response.refresh_token)
        throw new SdkFailure('ServerError', 'the code was redeemed without a subject or a refresh token')
      if (options.expectedSubject !== undefined && claims.sub !== options.expectedSubject) {
        await this.#options.endpoint.revoke(response.refresh_token).catch(() => {})
        throw new SdkFailure(
          'AccessDenied',
          'another person signed in; erase the enrollment (ClearIamTokenCache DeleteEnrollment) to change who is signed in',
        )
      }
      const previousFamily = options.expectedSubject === undefined ? undefined : this.#secrets.refreshToken
      const now = this.#options.clock.now()
      this.#secrets = {
        ...this.#secrets,
        refreshToken: response.refresh_token,
        accessToken: response.access_token,
        accessTokenReceivedAt: now,
        accessTokenExpiresAt: now + response.expires_in * 1000,
      }
      const { scope: _, ...record } = this.#record
      this.#record = {
        ...record,
        userIdentifier: claims.sub,
        isAnonymous: claims.acr === '0',
        ...(response.scope !== undefined && { scope: response.scope }),
      }
      this.#isSaved = false
      await this.#ensureSaved()
      // Best effort: a family left behind ends at its absolute lifetime, or with the device.
      if (previousFamily !== undefined) await this.#options.endpoint.revoke(previousFamily).catch(() => {})
      return { previousUserIdentifier }
    })
  }

  /** RFC 7009: ends the token family at the server, with the newest refresh token stored. */
  async revoke(): Promise<void> {
    // Another tab or process may have rotated it since; failing to read only means the one in memory.
    await this.#takeStoredTokens().catch(() => {})
    await this.#options.endpoint.revoke(this.#secrets.refreshToken)
  }

  /** Saves what is not saved yet; the manager is not used after this. */
  async close(): Promise<void> {
    await this.#ensureSaved()
  }

  /**
   * Rotates under the namespace's lock, after reading the record again: another tab or process
   * that rotated while this one waited has saved its tokens there, and this one takes them
   * instead of rotating the same refresh token a second time.
   */
  async #rotate(): Promise<void> {
    const expiresAt = await withEnrollmentLock(this.#options.lock, async () => {
      if ((await this.#takeStoredTokens()) && this.isAccessTokenFresh()) return undefined
      const response = await this.#options.endpoint.request(
        { grant_type: GrantType.refreshToken, refresh_token: this.#secrets.refreshToken },
        this.deviceKey,
      )
      const now = this.#options.clock.now()
      this.#secrets = {
        ...this.#secrets,
        refreshToken: response.refresh_token ?? this.#secrets.refreshToken,
        accessToken: response.access_token,
        accessTokenReceivedAt: now,
        accessTokenExpiresAt: now + response.expires_in * 1000,
      }
      this.#isSaved = false
      await this.#ensureSaved()
      return this.#secrets.accessTokenExpiresAt
    })
    if (expiresAt !== undefined) this.#options.onRefreshed(expiresAt)
  }

  /**
   * Reads the record again and takes its tokens when another context rotated the refresh token
   * since this one read it; whether it did. Unsaved tokens of this manager are newer than any
   * stored ones and stay. An enrollment that is gone or was replaced ends this session.
   */
  async #takeStoredTokens(): Promise<boolean> {
    const stored = await this.#options.store.load()
    if (stored?.deviceId !== this.#record.deviceId || stored.issuer !== this.#record.issuer)
      throw new SdkFailure(
        'SessionExpired',
        'the enrollment was deleted or replaced in another tab or process',
      )
    this.#record = stored
    if (!this.#isSaved) return false
    const secrets = await openSecrets(stored, this.#options.vaultKey, stored.sealed)
    if (!secrets) throw new SdkFailure('StorageError', 'the stored enrollment no longer opens with its key')
    if (secrets.refreshToken === this.#secrets.refreshToken) return false
    this.#secrets = secrets
    return true
  }

  async #exchange(subjectToken: string, audience: string): Promise<ExchangedToken> {
    const response = await this.#options.endpoint.request(
      {
        grant_type: GrantType.tokenExchange,
        subject_token: subjectToken,
        subject_token_type: TokenType.accessToken,
        audience,
      },
      this.deviceKey,
    )
    return {
      accessToken: response.access_token,
      tokenType: response.token_type.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer',
      audience,
      ...(response.scope !== undefined && { scope: response.scope }),
      expiresAt: this.#options.clock.now() + response.expires_in * 1000,
    }
  }

  async #ensureSaved(): Promise<void> {
    while (!this.#isSaved) {
      this.#saving ??= this.#save().finally(() => {
        this.#saving = undefined
      })
      await this.#saving
    }
  }

  async #save(): Promise<void> {
    const secrets = this.#secrets
    const record: EnrollmentRecord = {
      ...this.#record,
      sealed: await sealSecrets(this.#record, this.#options.vaultKey, secrets),
    }
    await this.#options.store.save(record)
    this.#record = record
    if (this.#secrets === secrets) this.#isSaved = true
  }
}
