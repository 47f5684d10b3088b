import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { SeededRandom } from '../../server/test/support/seeded-random.ts'
import { createResourceVerifier, ResourceError, type ResourceVerifier } from '../src/index.ts'
import { createDPoPKey, createProof, type DPoPKey, sha256 } from './support/dpop.ts'
import { audience, signJWT, startIssuer, type TestIssuer } from './support/issuer.ts'

/**
 * `verifyRequest` with seeded random tokens and proofs: signed ones whose claims and header
 * members have the wrong types, odd values or are missing, and valid ones cut, extended or with a
 * character changed, under every scheme; and requests that pass every check but carry an
 * `application/jose` body of any form to decrypt. Whatever a client sends, the verifier answers
 * with a `ResourceError` (which the integrations turn into a 401, 400 or 403) or accepts the
 * request; any other exception would be a 500 in the backend. ONRAMP_FUZZ_SEED replays a failing
 * run, ONRAMP_FUZZ_RUNS sets the number of requests (default 1,500).
 */

const seed = Number(process.env.ONRAMP_FUZZ_SEED ?? 20261121)
const runs = Number(process.env.ONRAMP_FUZZ_RUNS ?? 1500)
const url = 'https://api.example.com/orders?id=7'

describe('fuzzing the resource verifier', () => {
  const random = new SeededRandom(seed)
  let issuer: TestIssuer
  let key: DPoPKey
  let verifiers: ResourceVerifier[]

  before(async () => {
    issuer = await startIssuer()
    key = createDPoPKey()
    verifiers = [
      createResourceVerifier({ issuer: issuer.issuer, audience }),
      createResourceVerifier({
        issuer: issuer.issuer,
        audience: [audience, 'other-api'],
        requireDPoP: true,
        requiredScopes: ['demo:read'],
        dpopNonce: { secret: new Uint8Array(32).fill(7) },
      }),
      createResourceVerifier({
        issuer: issuer.issuer,
        audience,
        encryption: {
          privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }),
          kid: 'enc-1',
        },
      }),
    ]
  })
  after(() => issuer.close())

  /** A value of a random JSON type, or one a token or proof member could hold. */
  function odd(): unknown {
    const now = Math.floor(Date.now() / 1000)
    return random.oddValue([
      [audience],
      { jkt: key.jkt },
      { jkt: 7 },
      { __proto__: { admin: true } },
      issuer.issuer,
      `${issuer.issuer}/`,
      audience,
      key.jkt,
      'DPoP',
      'ES256',
      'none',
      'HS256',
      now,
      now + 3600,
      now - 3600,
    ])
  }

  /** `base` with up to three members replaced by odd values or removed. */
  function mutate(base: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
    const object = { ...base }
    for (let i = random.below(4); i > 0; i--) {
      const name = random.pick(names)
      if (random.chance(0.25)) delete object[name]
      else object[name] = odd()
    }
    return object
  }

  /** A string cut short, extended, or with one character changed. */
  function damage(text: string): string {
    const at = random.below(text.length)
    switch (random.below(4)) {
      case 0:
        return text.slice(0, at)
      case 1:
        return `${text}${random.pick(['.', '..x', '=', ' ', '.e30'])}`
      case 2:
        return `${text.slice(0, at)}${random.pick(['A', '-', '_', '.', '+', '/'])}${text.slice(at + 1)}`
      default:
        return text.split('.').reverse().join('.')
    }
  }

  function validToken(): string {
    const now = Math.floor(Date.now() / 1000)
    return signJWT(
      issuer.key,
      { alg: 'ES256', typ: 'at+jwt', kid: issuer.key.kid },
      {
        iss: issuer.issuer,
        sub: 'profile-1',
        aud: audience,
        client_id: 'demo-app',
        iat: now,
        exp: now + 300,
        jti: `token-${random.below(1e9)}`,
        cnf: { jkt: key.jkt },
      },
    )
  }

  function token(): string {
    const now = Math.floor(Date.now() / 1000)
    const claims = {
      iss: issuer.issuer,
      sub: 'profile-1',
      aud: audience,
      client_id: 'demo-app',
      scope: 'demo:read demo:write',
      iat: now,
      exp: now + 300,
      jti: `token-${random.below(1e9)}`,
      acr: '0',
      amr: ['anon'],
      cnf: { jkt: key.jkt },
    }
    const header = { alg: 'ES256', typ: 'at+jwt', kid: issuer.key.kid }
    const choice = random.below(3)
    if (choice === 0) return signJWT(issuer.key, header, claims)
    if (choice === 1) {
      return signJWT(
        issuer.key,
        mutate(header, ['alg', 'typ', 'kid', 'crit', 'jwk']),
        mutate(claims, [...Object.keys(claims), 'nbf']),
      )
    }
    return damage(signJWT(issuer.key, header, claims))
  }

  function proof(method: string, accessToken: string): string | undefined {
    const claims = {
      jti: `proof-${random.below(1e9)}`,
      htm: method,
      htu: url.split('?')[0],
      iat: Math.floor(Date.now() / 1000),
      ath: sha256(accessToken),
    }
    const header = { typ: 'dpop+jwt', alg: 'ES256', jwk: key.publicJWK }
    switch (random.below(6)) {
      case 0:
        return undefined
      case 1:
        return createProof(key, { htm: method, htu: claims.htu!, token: accessToken })
      case 2: {
        const jwk = random.chance(0.5) ? mutate(key.publicJWK, ['kty', 'crv', 'x', 'y', 'd', 'alg']) : odd()
        return signJWT(key.privateKey, { ...mutate(header, ['typ', 'alg', 'kid']), jwk }, claims)
      }
      case 3:
        return signJWT(key.privateKey, header, mutate(claims, [...Object.keys(claims), 'nonce', 'ebh']))
      case 4:
        return damage(createProof(key, { htm: method, htu: claims.htu!, token: accessToken }))
      default:
        return `${createProof(key, { htm: method, htu: claims.htu!, token: accessToken })}, x`
    }
  }

  /** A body sent as `application/jose`: a compact JWE in form, with parts of any kind. */
  function encryptedBody(): string {
    const part = () =>
      random.pick([
        '',
        'e30',
        Buffer.from(JSON.stringify(random.oddValue())).toString('base64url'),
        Buffer.from(Array.from({ length: random.below(300) }, () => random.below(256))).toString('base64url'),
        '!!',
      ])
    const header = {
      alg: random.oddValue(['ECDH-ES', 'ECDH-ES+A256KW', 'RSA-OAEP']),
      enc: random.oddValue(['A256GCM', 'A128CBC-HS256']),
      kid: random.oddValue(['enc-1']),
      epk: random.oddValue([{ ...key.publicJWK }, { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' }]),
    }
    const protectedHeader = Buffer.from(JSON.stringify(header)).toString('base64url')
    return random.chance(0.8)
      ? [protectedHeader, part(), part(), part(), part()].join('.')
      : Array.from({ length: random.below(7) }, part).join('.')
  }

  it('answers every request with a ResourceError or an accepted access', async () => {
    const unexpected = new Map<string, string>()
    let accepted = 0
    for (let run = 0; run < runs; run++) {
      // Now and then a request that passes every check, with an encrypted body to be read.
      const encrypted = random.chance(0.15)
      const method = encrypted ? 'POST' : random.pick(['GET', 'POST', 'DELETE'])
      const accessToken = encrypted ? validToken() : token()
      const body = encrypted ? encryptedBody() : undefined
      const dpop = encrypted
        ? createProof(key, {
            htm: method,
            htu: url.split('?')[0]!,
            token: accessToken,
            claims: { ebh: sha256(body!) },
          })
        : proof(method, accessToken)
      const scheme = encrypted ? 'DPoP' : random.pick(['DPoP', 'Bearer', 'dpop', 'DPoP  ', 'Basic', ''])
      const headers: Record<string, string> = { authorization: `${scheme} ${accessToken}`.trim() }
      if (dpop !== undefined) headers.dpop = dpop
      if (encrypted || random.chance(0.1)) headers['content-type'] = 'application/jose'
      const verifier = encrypted ? verifiers[2]! : random.pick(verifiers)
      try {
        await verifier.verifyRequest(
          new Request(url, { method, headers, ...(body !== undefined && { body }) }),
        )
        accepted++
      } catch (error) {
        if (error instanceof ResourceError) continue
        const what = `${(error as Error).name}: ${(error as Error).message}`
        unexpected.set(what, `${what} for ${JSON.stringify(headers).slice(0, 600)}`)
      }
    }
    assert.deepEqual([...unexpected.values()], [], `seed ${seed}`)
    // The valid requests among them got through: the refusals are not from a broken set-up.
    assert.ok(accepted > 0, 'no request was accepted')
  })
})
