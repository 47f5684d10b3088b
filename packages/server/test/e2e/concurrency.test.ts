import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { GrantType, TokenType } from '@onramp/protocol'
import { accessTokenHash, createProof } from '../support/dpop-proof.ts'
import { postForm, type RawResponse, send } from '../support/http.ts'
import { createDeviceKey, type DeviceKey, demo, discover, enroll } from '../support/oauth-client.ts'
import { createTestDatabase, skipUnlessPostgres, type TestDatabase } from '../support/postgres.ts'
import { SeededRandom } from '../support/seeded-random.ts'
import { startTestServer, type TestServer } from '../support/server.ts'

/**
 * Many devices at once, each running its own seeded script of refreshes, refresh-token reuse,
 * token exchanges and attribute writes and reads, while the others run theirs: on SQLite their
 * writes share group-committed transactions, where one device's refused refresh (which revokes
 * its family) sits in the same batch as other devices' successes. Every answer must be exactly
 * what the device's own history says, whatever the others do. ONRAMP_FUZZ_SEED varies the scripts.
 */

const seed = Number(process.env.ONRAMP_FUZZ_SEED ?? 20261121)
const devices = 24
const steps = 14
const skipPostgres = await skipUnlessPostgres()

interface Device {
  key: DeviceKey
  accessToken: string
  refreshToken: string
  /** Refresh tokens already rotated away: presenting one is reuse. */
  used: string[]
  /** Reuse was detected: the whole family is revoked. */
  revoked: boolean
  /** The `cart` attribute as this device last wrote it. */
  cart: number | undefined
}

for (const store of ['SQLite', 'PostgreSQL'] as const)
  describe(`many devices at once on ${store}`, { skip: store === 'PostgreSQL' && skipPostgres }, () => {
    let database: TestDatabase | undefined
    let server: TestServer
    let tokenURL: string

    before(async () => {
      database =
        store === 'PostgreSQL' ? await createTestDatabase({ prefix: 'onramp_concurrency' }) : undefined
      server = await startTestServer({
        env: {
          ONRAMP_ENROLLMENT_RATE_LIMIT: 'off',
          ...(database && {
            ONRAMP_DATABASE_URL: database.url,
            ONRAMP_MASTER_KEY: randomBytes(32).toString('hex'),
          }),
        },
      })
      tokenURL = `${server.issuer()}/token`
    })
    after(async () => {
      await server?.close()
      await database?.drop()
    })

    async function enrollDevice(): Promise<Device> {
      const key = await createDeviceKey()
      const tokens = await enroll(await discover(server.issuer()), key)
      return {
        key,
        accessToken: tokens.access_token,
        refreshToken: tokens.refresh_token!,
        used: [],
        revoked: false,
        cart: undefined,
      }
    }

    async function token(device: Device, params: Record<string, string>): Promise<RawResponse> {
      const dpop = await createProof(device.key.keyPair, { htm: 'POST', htu: tokenURL })
      return postForm(tokenURL, { client_id: demo.client, ...params }, { dpop })
    }

    async function attribute(device: Device, method: 'GET' | 'PUT', value?: number): Promise<RawResponse> {
      const url = `${server.issuer()}/profile/attributes/cart`
      const dpop = await createProof(device.key.keyPair, {
        htm: method,
        htu: url,
        ath: accessTokenHash(device.accessToken),
      })
      return send(url, {
        method,
        headers: {
          authorization: `DPoP ${device.accessToken}`,
          dpop,
          ...(value !== undefined && { 'content-type': 'application/json' }),
        },
        ...(value !== undefined && { body: JSON.stringify(value) }),
      })
    }

    /** One device's script; returns what went differently from its own history. */
    async function runDevice(index: number): Promise<string[]> {
      const random = new SeededRandom(seed + index)
      const wrong: string[] = []
      const expect = (what: string, response: RawResponse, status: number, error?: string) => {
        const body = response.body as { error?: string }
        if (response.status !== status || (error !== undefined && body.error !== error)) {
          wrong.push(
            `device ${index} ${what}: ${response.status} ${JSON.stringify(response.body)}, expected ${status} ${error ?? ''}`,
          )
        }
      }
      let device = await enrollDevice()
      for (let step = 0; step < steps; step++) {
        if (device.revoked && random.chance(0.5)) device = await enrollDevice()
        switch (random.below(5)) {
          case 0: {
            const response = await token(device, {
              grant_type: GrantType.refreshToken,
              refresh_token: device.refreshToken,
            })
            if (device.revoked) {
              expect('refresh of a revoked family', response, 400, 'invalid_grant')
              break
            }
            expect('refresh', response, 200)
            const tokens = response.body as { access_token: string; refresh_token: string }
            device.used.push(device.refreshToken)
            device.refreshToken = tokens.refresh_token
            device.accessToken = tokens.access_token
            break
          }
          case 1: {
            if (device.used.length === 0) break
            const response = await token(device, {
              grant_type: GrantType.refreshToken,
              refresh_token: random.pick(device.used),
            })
            expect('reuse of a rotated refresh token', response, 400, 'invalid_grant')
            device.revoked = true
            break
          }
          case 2: {
            const response = await token(device, {
              grant_type: GrantType.tokenExchange,
              subject_token: device.accessToken,
              subject_token_type: TokenType.accessToken,
              audience: demo.resource,
            })
            if (device.revoked) expect('exchange for a revoked family', response, 400, 'invalid_grant')
            else expect('exchange', response, 200)
            break
          }
          case 3: {
            const value = random.below(1_000_000)
            const response = await attribute(device, 'PUT', value)
            if (device.revoked) {
              expect('attribute write with a revoked token', response, 401, 'invalid_token')
              break
            }
            expect('attribute write', response, device.cart === undefined ? 201 : 204)
            device.cart = value
            break
          }
          default: {
            const response = await attribute(device, 'GET')
            if (device.revoked) expect('attribute read with a revoked token', response, 401, 'invalid_token')
            else if (device.cart === undefined) expect('read of an attribute never written', response, 404)
            else {
              expect('attribute read', response, 200)
              if (response.body !== device.cart)
                wrong.push(`device ${index} read ${response.body}, wrote ${device.cart}`)
            }
          }
        }
      }
      return wrong
    }

    it('answers each device exactly as its own history says, whatever the others do', async () => {
      const wrong = (await Promise.all(Array.from({ length: devices }, (_, i) => runDevice(i)))).flat()
      assert.deepEqual(wrong, [], `seed ${seed}`)
    })
  })
