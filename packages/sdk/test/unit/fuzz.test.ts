import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { base64url } from 'jose'
import { SeededRandom } from '../../../server/test/support/seeded-random.ts'
import {
  ClearIamTokenCacheStatuses,
  CreateHttpCommonRequestStatuses,
  createOnrampClient,
  EnrollAnonymousUserStatuses,
  ExchangeIamTokenStatuses,
  type FetchFunction,
  MemoryStorage,
  OfflineLoginStatuses,
  SdkStateStatuses,
  StartStatuses,
} from '../../src/index.ts'
import { FakeIdentityServer } from '../support/fake-identity-server.ts'

/**
 * The SDK against a hostile or broken server: seeded sequences of events, where most answers of
 * the identity server and of the backend are replaced by random ones — network failures, any
 * status, bodies of the wrong shape or types, invalid JSON, odd headers, tokens that are not
 * JWTs. Every event must come back with a status of its own list, and never as `InternalError`
 * from an exception the SDK did not expect: a broken answer is the server's error, and the app
 * must be told so. ONRAMP_FUZZ_SEED replays a failing run, ONRAMP_FUZZ_RUNS sets the number of
 * event sequences (default 30).
 */

const seed = Number(process.env.ONRAMP_FUZZ_SEED ?? 20261121)
const runs = Number(process.env.ONRAMP_FUZZ_RUNS ?? 30)

describe('fuzzing the SDK with broken server answers', () => {
  const random = new SeededRandom(seed)

  /** A value of a random JSON type, or one a token response member could hold. */
  function odd(): unknown {
    return random.oddValue([
      'DPoP',
      'Bearer',
      'not.a.jwt',
      `${base64url.encode('{"alg":"none"}')}.${base64url.encode('{"exp":"soon"}')}.`,
      `${base64url.encode('[]')}.${base64url.encode('null')}.`,
      Math.floor(Date.now() / 1000) - 10,
    ])
  }

  /** A JSON body of roughly the shape the SDK expects, with members replaced or removed. */
  function body(): unknown {
    const shapes: Record<string, unknown>[] = [
      { access_token: odd(), token_type: 'DPoP', expires_in: 300, refresh_token: 'rt', device_id: 'd' },
      { access_token: 'a.b.c', token_type: odd(), expires_in: odd(), refresh_token: odd() },
      { error: odd(), error_description: odd() },
      { error: 'use_dpop_nonce', error_description: 'nonce' },
      { error: random.pick(['invalid_grant', 'invalid_token', 'access_denied', 'invalid_target']) },
      { status: odd(), min_version: odd(), latest_version: odd() },
      { request_uri: odd(), expires_in: odd() },
      { keys: odd() },
      { keys: [{ kty: 'EC', crv: 'P-256', x: odd(), y: odd(), kid: odd(), use: 'enc' }] },
    ]
    const shape = { ...random.pick(shapes) }
    for (let i = random.below(3); i > 0; i--) {
      const name = random.pick(Object.keys(shape))
      if (random.chance(0.3)) delete shape[name]
      else shape[name] = odd()
    }
    return random.chance(0.9) ? shape : odd()
  }

  function hostileFetch(server: FakeIdentityServer): FetchFunction {
    return async (input, init) => {
      if (random.chance(0.45)) return server.fetch(input, init)
      if (random.chance(0.1)) throw new TypeError('fetch failed')
      const status = random.pick([200, 200, 200, 201, 204, 301, 400, 401, 403, 404, 409, 429, 500, 502, 503])
      const headers = new Headers({
        'content-type': random.pick(['application/json', 'text/html', 'application/jose']),
      })
      if (random.chance(0.3))
        headers.set(
          'dpop-nonce',
          String(odd())
            .slice(0, 200)
            .replace(/[^\x20-\x7e]/g, ''),
        )
      if (random.chance(0.3)) {
        headers.set(
          'www-authenticate',
          random.pick(['DPoP error="use_dpop_nonce"', 'Bearer error="invalid_token"', 'DPoP', ',,,', '"']),
        )
      }
      if (random.chance(0.2)) headers.set('retry-after', random.pick(['1', '-5', 'soon', '99999999999']))
      const text = random.chance(0.85)
        ? JSON.stringify(body())
        : random.pick(['', '{', 'null', '<html>', '[]'])
      const noBody = status === 204 || status === 301
      return new Response(noBody ? null : text, { status, headers })
    }
  }

  it('answers every event with one of its statuses, never an unexpected exception', async () => {
    const problems = new Map<string, string>()
    for (let run = 0; run < runs; run++) {
      const server = new FakeIdentityServer()
      const client = createOnrampClient({
        serverUrl: server.serverUrl,
        tenantId: 'demo',
        clientId: 'app',
        storage: new MemoryStorage(),
        fetch: hostileFetch(server),
        pbkdf2Iterations: 600_000,
        timeout: 2_000,
      })
      let state = 'NotStarted'
      const check = (
        event: string,
        statuses: readonly string[],
        result: { status: string; detail?: string; sdkState?: string },
      ) => {
        state = result.sdkState ?? state
        const unexpected = result.status === 'InternalError' && /^unexpected/.test(result.detail ?? '')
        if (!statuses.includes(result.status) || unexpected) {
          problems.set(`${event} ${result.status} ${result.detail?.slice(0, 80)}`, `seed ${seed}, run ${run}`)
        }
      }
      // Mostly the event the SDK's state calls for, so that sequences get past enrollment.
      const next: Record<string, number> = { NotStarted: 0, ActivationRequired: 1, LoginRequired: 3 }
      for (let step = 0; step < 25; step++) {
        const event = random.chance(0.6) && state in next ? next[state]! : random.below(9)
        switch (event) {
          case 0:
            check('Start', StartStatuses, await client.start({ appName: 'App', appVersion: '1.0.0' }))
            break
          case 1:
          case 2:
            check(
              'EnrollAnonymousUser',
              EnrollAnonymousUserStatuses,
              await client.enrollAnonymous({ authenticationMode: 'no' }),
            )
            break
          case 3:
            check('OfflineLogin', OfflineLoginStatuses, await client.offlineLogin())
            break
          case 4:
            check(
              'ExchangeIamToken',
              ExchangeIamTokenStatuses,
              await client.exchangeToken('api', { forceUpdate: random.chance(0.5) }),
            )
            break
          case 5:
          case 6:
            check(
              'CreateHttpCommonRequest',
              CreateHttpCommonRequestStatuses,
              await client.request({
                url: 'https://api.example/orders',
                method: random.pick(['GET', 'POST']),
                audience: 'api',
                body: '{"item":1}',
                encrypt: random.chance(0.3),
              }),
            )
            break
          case 7:
            check(
              'ClearIamTokenCache',
              ClearIamTokenCacheStatuses,
              await client.clearTokenCache(random.pick(['ExchangedTokens', 'Logout', 'DeleteEnrollment'])),
            )
            break
          default:
            check('Restart', SdkStateStatuses, await client.restart())
        }
      }
    }
    assert.deepEqual([...problems.keys()], [], `seed ${seed}`)
  })
})
