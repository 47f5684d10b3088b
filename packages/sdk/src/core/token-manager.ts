import { GrantType, TokenType } from '@onramp/protocol'
import type { Clock } from '../adapters/clock.ts'
import type { ExchangedToken } from '../events.ts'
import type { EnrollmentRecord, EnrollmentStore, VaultSecrets } from './enrollment-record.ts'
import { renewalTime } from './freshness.ts'
import { SdkFailure } from './sdk-failure.ts'
import { sealSecrets, type VaultKey } from './secret-vault.ts'
import type { TokenEndpoint } from './token-endpoint.ts'

export interface TokenManagerOptions {
  record: EnrollmentRecord
  secrets: VaultSecrets
  vaultKey: VaultKey
  deviceKey: CryptoKeyPair
  store: EnrollmentStore
  endpoint: TokenEndpoint
  clock: Clock
  /** Milliseconds before expiry at which a token is renewed. */
  expirySkew: number
  onRefreshed: (expiresAt: number) => void
}

/**
 * The IAM tokens of one unlocked enrollment. Refreshes are single-flight (two concurrent
 * rotations of one refresh token would revoke the family), and a rotated refresh token is saved,
 * sealed in the enrollment record together with its access token, before that access token is
 * handed to anyone: if the save fails, the new tokens stay in memory and the save is retried
 * before the next use, so neither a crash nor a full disk loses the family silently.
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

  /** RFC 7009: ends the token family at the server. */
  revoke(): Promise<void> {
    return this.#options.endpoint.revoke(this.#secrets.refreshToken)
  }

  /** Saves what is not saved yet; the manager is not used after this. */
  async close(): Promise<void> {
    await this.#ensureSaved()
  }

  async #rotate(): Promise<void> {
    const response = await this.#options.endpoint.request(
      { grant_type: GrantType.refreshToken, refresh_token: this.#secrets.refreshToken },
      this.deviceKey,
    )
    const now = this.#options.clock.now()
    const expiresAt = now + response.expires_in * 1000
    this.#secrets = {
      ...this.#secrets,
      refreshToken: response.refresh_token ?? this.#secrets.refreshToken,
      accessToken: response.access_token,
      accessTokenReceivedAt: now,
      accessTokenExpiresAt: expiresAt,
    }
    this.#isSaved = false
    await this.#ensureSaved()
    this.#options.onRefreshed(expiresAt)
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
