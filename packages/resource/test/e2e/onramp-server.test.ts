import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import express from 'express'
import Fastify from 'fastify'
import type { JWK } from 'jose'
import * as oauth from 'oauth4webapi'
import { accessTokenHash, createProof } from '../../../server/test/support/dpop-proof.ts'
import {
  createDeviceKey,
  type DeviceKey,
  demo,
  discover,
  enroll,
  exchange,
  insecure,
} from '../../../server/test/support/oauth-client.ts'
import { startTestServer, type TestServer } from '../../../server/test/support/server.ts'
import {
  createResourceVerifier,
  onrampExpress,
  onrampResource,
  type ResourceVerifierOptions,
} from '../../src/index.ts'
import { assertChallenge } from '../support/challenge.ts'
import { sha256 } from '../support/dpop.ts'
import { createResponseKey, decryptResponse, encryptBody } from '../support/encryption-client.ts'
import { listen } from '../support/listen.ts'

/** The real Onramp server issues the tokens; a Fastify and an Express backend accept them. */
describe('against the real Onramp server', () => {
  let server: TestServer
  let as: oauth.AuthorizationServer
  let key: DeviceKey
  let token: string
  const backends: { url: string; close(): Promise<void> }[] = []

  before(async () => {
    server = await startTestServer()
    as = await discover(server.issuer())
    await server.services.resources.create(demo.tenant, {
      audience: 'other-api',
      scopes: ['x'],
      policy: { allowedClients: [demo.client], allowAnonymous: true },
    })
    key = await createDeviceKey()
    const enrolled = await enroll(as, key)
    token = (await exchange(as, key, enrolled.access_token, { audience: demo.resource })).access_token

    const options: ResourceVerifierOptions = {
      issuer: server.issuer(),
      audience: demo.resource,
      requiredScopes: ['demo:read'],
      encryption: { privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, kid: 'enc-1' },
    }

    const fastify = Fastify()
    await fastify.register(onrampResource, options)
    fastify.get('/orders', async (request) => ({
      sub: request.onramp.claims.sub,
      anonymous: request.onramp.isAnonymous,
    }))
    fastify.post('/orders', async (request) => ({ received: request.body }))
    backends.push({ url: await fastify.listen({ port: 0, host: '127.0.0.1' }), close: () => fastify.close() })

    const onramp = onrampExpress({ ...options, verifier: createResourceVerifier(options) })
    const app = express()
    app.use(onramp.encryptionJWKS)
    app.use(onramp)
    app.get('/orders', (req, res) => {
      res.json({ sub: req.onramp!.claims.sub, anonymous: req.onramp!.isAnonymous })
    })
    app.post('/orders', (req, res) => {
      res.json({ received: req.body })
    })
    backends.push(await listen((port, host, ready) => app.listen(port, host, ready)))
  })
  after(async () => {
    await Promise.all(backends.map((backend) => backend.close()))
    await server?.close()
  })

  function proof(url: string, method = 'GET', accessToken = token, claims: Record<string, unknown> = {}) {
    return createProof(key.keyPair, { htm: method, htu: url, ath: accessTokenHash(accessToken), ...claims })
  }

  for (const index of [0, 1]) {
    describe(['Fastify', 'Express'][index]!, () => {
      const backend = () => backends[index]!

      it('accepts the exchanged DPoP-bound token, called through oauth4webapi', async () => {
        const response = await oauth.protectedResourceRequest(
          token,
          'GET',
          new URL(`${backend().url}/orders`),
          undefined,
          null,
          { ...insecure, DPoP: key.dpop },
        )
        assert.equal(response.status, 200)
        const body = (await response.json()) as { sub: string; anonymous: boolean }
        assert.equal(body.anonymous, true)
        assert.equal(typeof body.sub, 'string')
      })

      it('refuses a tampered token', async () => {
        const [header, payload, signature] = token.split('.')
        const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString())
        const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString('base64url')}.${signature}`
        const url = `${backend().url}/orders`
        const response = await fetch(url, {
          headers: { authorization: `DPoP ${tampered}`, dpop: await proof(url, 'GET', tampered) },
        })
        assert.equal(response.status, 401)
        assertChallenge(response.headers.get('www-authenticate'), {
          status: 401,
          code: 'invalid_token',
          scheme: 'DPoP',
        })
      })

      it('refuses a token for another audience, and the enrollment token itself', async () => {
        const enrolled = await enroll(as, key)
        const other = (await exchange(as, key, enrolled.access_token, { audience: 'other-api' })).access_token
        const url = `${backend().url}/orders`
        for (const wrong of [other, enrolled.access_token]) {
          const response = await fetch(url, {
            headers: { authorization: `DPoP ${wrong}`, dpop: await proof(url, 'GET', wrong) },
          })
          assert.equal(response.status, 401)
          assert.deepEqual(await response.json(), {
            error: 'invalid_token',
            error_description: 'the access token is for another audience',
          })
          assertChallenge(response.headers.get('www-authenticate'), {
            status: 401,
            code: 'invalid_token',
            scheme: 'DPoP',
          })
        }
      })

      it('refuses a replayed proof and a proof by another device', async () => {
        const url = `${backend().url}/orders`
        const headers = { authorization: `DPoP ${token}`, dpop: await proof(url) }
        assert.equal((await fetch(url, { headers })).status, 200)
        const replayed = await fetch(url, { headers })
        assert.equal(replayed.status, 401)
        assert.equal((await replayed.json()).error_description, 'the DPoP proof has been used before')
        assertChallenge(replayed.headers.get('www-authenticate'), {
          status: 401,
          code: 'invalid_dpop_proof',
          scheme: 'DPoP',
        })

        const thief = await createDeviceKey()
        const stolen = await fetch(url, {
          headers: {
            authorization: `DPoP ${token}`,
            dpop: await createProof(thief.keyPair, { htm: 'GET', htu: url, ath: accessTokenHash(token) }),
          },
        })
        assert.equal(stolen.status, 401)
        assert.equal((await stolen.json()).error, 'invalid_dpop_proof')
      })

      it('round-trips an encrypted body and response', async () => {
        const url = `${backend().url}/orders`
        const jwks = (await (await fetch(`${backend().url}/.well-known/onramp-encryption-jwks`)).json()) as {
          keys: JWK[]
        }
        const body = await encryptBody(jwks.keys[0]!, '{"item":"book"}', 'application/json')
        const responseKey = await createResponseKey()
        const response = await fetch(url, {
          method: 'POST',
          headers: {
            authorization: `DPoP ${token}`,
            dpop: await proof(url, 'POST', token, {
              ebh: sha256(body),
              rkt: responseKey.thumbprint,
            }),
            'content-type': 'application/jose',
            'onramp-response-key': responseKey.header,
          },
          body,
        })
        assert.equal(response.status, 200)
        assert.equal(response.headers.get('content-type'), 'application/jose')
        assert.deepEqual(JSON.parse((await decryptResponse(await response.text(), responseKey)).text), {
          received: { item: 'book' },
        })
      })
    })
  }
})
