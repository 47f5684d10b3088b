import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { GrantType, TokenType } from '@onramp/protocol'
import { createProof } from '../support/dpop-proof.ts'
import { type RawResponse, send, sendRaw } from '../support/http.ts'
import { createDeviceKey, type DeviceKey, demo, discover, enroll } from '../support/oauth-client.ts'
import { startTestServer, type TestServer } from '../support/server.ts'

const bodyLimit = 16_384
const form = 'application/x-www-form-urlencoded'

/** What every answer to a hostile request must be: a 4xx with a JSON body naming the error. */
function assertClientError(
  response: RawResponse,
  what: string,
): { error: string; error_description?: string } {
  assert.ok(
    response.status >= 400 && response.status < 500,
    `${what}: status ${response.status} ${JSON.stringify(response.body)}`,
  )
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/, `${what}: not JSON`)
  const body = response.body as { error?: unknown; error_description?: unknown }
  assert.equal(typeof body.error, 'string', `${what}: no error in ${JSON.stringify(body)}`)
  if (body.error_description !== undefined) assert.equal(typeof body.error_description, 'string', what)
  return body as { error: string; error_description?: string }
}

function expectError(response: RawResponse, what: string, status: number, error: string): void {
  const body = assertClientError(response, what)
  assert.equal(response.status, status, `${what}: ${JSON.stringify(body)}`)
  assert.equal(body.error, error, `${what}: ${body.error_description}`)
}

/**
 * Bytes straight onto a socket: what no HTTP client library would send. With `keepOpen`, the
 * socket stays open for writing, as a client that never finishes its request leaves it.
 */
function sendBytes(port: number, bytes: string, options: { keepOpen?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer')))
    socket.on('data', (chunk) => chunks.push(chunk))
    socket.on('error', (error) =>
      chunks.length > 0 ? resolve(Buffer.concat(chunks).toString()) : reject(error),
    )
    socket.on('close', () => resolve(Buffer.concat(chunks).toString()))
    if (options.keepOpen) socket.write(bytes)
    else socket.end(bytes)
  })
}

describe('bad input', () => {
  let server: TestServer
  let tokenURL: string
  let key: DeviceKey
  let rowsBefore: Record<string, number>

  async function rows(): Promise<Record<string, number>> {
    const tables = ['profiles', 'devices', 'grants', 'refresh_tokens'] as const
    return Object.fromEntries(await Promise.all(tables.map(async (t) => [t, await server.countRows(t)])))
  }

  function post(body: string | Buffer, headers: Record<string, string | string[]> = {}, url = tokenURL) {
    return sendRaw(url, { method: 'POST', headers: { 'content-type': form, ...headers }, body })
  }

  before(async () => {
    server = await startTestServer({ env: { ONRAMP_BODY_LIMIT: String(bodyLimit) } })
    tokenURL = `${server.issuer()}/token`
    key = await createDeviceKey()
    // One enrolled device, so that the refusals below have real tokens to aim at.
    await enroll(await discover(server.issuer()), key)
    rowsBefore = await rows()
  })
  after(() => server?.close())

  it('refuses a missing or unknown grant_type', async () => {
    expectError(await post(''), 'empty form', 400, 'invalid_request')
    expectError(await post('client_id=demo-app'), 'no grant_type', 400, 'invalid_request')
    expectError(await post('grant_type=&client_id=demo-app'), 'empty grant_type', 400, 'invalid_request')
    for (const grantType of ['password', 'urn:example:nope', 'x'.repeat(5000), 'REFRESH_TOKEN']) {
      expectError(
        await post(`grant_type=${grantType}&client_id=demo-app`),
        grantType.slice(0, 20),
        400,
        'unsupported_grant_type',
      )
    }
  })

  it('refuses repeated parameters with invalid_request', async () => {
    for (const body of [
      'grant_type=refresh_token&grant_type=refresh_token&client_id=demo-app&refresh_token=x',
      'grant_type=refresh_token&client_id=demo-app&client_id=demo-app&refresh_token=x',
      'grant_type=refresh_token&client_id=demo-app&refresh_token=x&refresh_token=y',
    ]) {
      expectError(await post(body), body, 400, 'invalid_request')
    }
  })

  it('refuses a parameter over 8192 characters with invalid_request', async () => {
    const long = await post(`grant_type=refresh_token&client_id=demo-app&refresh_token=${'x'.repeat(8193)}`)
    expectError(long, 'long value', 400, 'invalid_request')
    assert.match(
      String((long.body as { error_description?: string }).error_description),
      /refresh_token.*8192/,
    )
    // At the limit the parameter is read, and the token itself is what fails.
    const atLimit = await post(
      `grant_type=refresh_token&client_id=demo-app&refresh_token=${'x'.repeat(8192)}`,
    )
    expectError(atLimit, 'value at the limit', 400, 'invalid_grant')
  })

  it('answers malformed form bodies with a 4xx JSON error', async () => {
    for (const body of [
      '%%%',
      '=&=&=',
      'grant_type',
      '&&&&',
      'grant_type=%E0%A4%A&client_id=%C3%28',
      'a=1&'.repeat(1000),
      Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80, 0x3d, 0x26]),
    ]) {
      assertClientError(await post(body), `form ${String(body).slice(0, 20)}`)
    }
  })

  it('refuses a body that is not a form, even one that would otherwise succeed', async () => {
    const params = { grant_type: GrantType.anonymous, client_id: demo.client, authentication_mode: 'no' }
    const json = await post(JSON.stringify(params), {
      'content-type': 'application/json',
      dpop: await createProof(key.keyPair, { htm: 'POST', htu: tokenURL }),
    })
    expectError(json, 'JSON body', 415, 'invalid_request')
    expectError(
      await post('{"grant_type":', { 'content-type': 'application/json' }),
      'broken JSON',
      400,
      'invalid_request',
    )
    for (const type of [
      'text/plain',
      'multipart/form-data; boundary=x',
      'application/xml',
      'application/octet-stream',
    ]) {
      assertClientError(await post('grant_type=refresh_token', { 'content-type': type }), type)
    }
    assertClientError(await sendRaw(tokenURL, { method: 'POST' }), 'no body')
    for (const path of ['/revoke', '/introspect']) {
      const response = await post(
        JSON.stringify({ token: 'x', client_id: demo.client }),
        { 'content-type': 'application/json' },
        `${server.issuer()}${path}`,
      )
      expectError(response, `JSON at ${path}`, 415, 'invalid_request')
    }
  })

  it('refuses a body over the limit with 413 and a JSON error', async () => {
    const response = await post(
      `grant_type=refresh_token&client_id=demo-app&refresh_token=${'a'.repeat(bodyLimit)}`,
    )
    expectError(response, 'oversized body', 413, 'invalid_request')
    const oneParameter = await post(
      `grant_type=refresh_token&client_id=demo-app&refresh_token=${'a'.repeat(9000)}`,
    )
    expectError(oneParameter, 'oversized parameter', 400, 'invalid_request')
  })

  it('answers garbage Authorization headers at the token endpoint with 4xx JSON errors', async () => {
    const basic = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`
    for (const authorization of [
      'Basic',
      'Basic !!!!',
      basic('no-colon'),
      basic(':'),
      basic('demo-app:%zz'),
      basic('%zz:secret'),
      basic('\u0000:\u0000'),
      basic(`${'x'.repeat(3000)}:y`),
      'Bearer abc',
      'DPoP a.b.c',
      'Digest username="x"',
      `Basic ${'A'.repeat(8000)}`,
    ]) {
      const response = await post('grant_type=client_credentials', { authorization })
      const body = assertClientError(response, authorization.slice(0, 30))
      assert.ok(
        ['invalid_client', 'invalid_request'].includes(body.error),
        `${authorization.slice(0, 30)}: ${body.error}`,
      )
    }
  })

  it('refuses hostile client ids and audiences as unknown, not with a server error', async () => {
    for (const clientId of [
      'demo\u0000app',
      '\u0000',
      'x'.repeat(8000),
      'демо',
      '\u202e',
      'demo-app\n',
      '../demo-app',
    ]) {
      const response = await post(
        new URLSearchParams({
          grant_type: 'refresh_token',
          client_id: clientId,
          refresh_token: 'x',
        }).toString(),
      )
      expectError(response, `client_id ${JSON.stringify(clientId.slice(0, 10))}`, 401, 'invalid_client')
    }
    const as = await discover(server.issuer())
    const subject = await enroll(as, key)
    for (const audience of ['demo\u0000api', 'x'.repeat(8000), 'demo-api ', '\u0000']) {
      const response = await post(
        new URLSearchParams({
          grant_type: GrantType.tokenExchange,
          client_id: demo.client,
          subject_token: subject.access_token,
          subject_token_type: TokenType.accessToken,
          audience,
        }).toString(),
        { dpop: await createProof(key.keyPair, { htm: 'POST', htu: tokenURL }) },
      )
      expectError(response, `audience ${JSON.stringify(audience.slice(0, 10))}`, 400, 'invalid_target')
    }
    const appConfig = await send(`${server.issuer()}/app-config?app_name=demo%00app&app_version=1.0.0`)
    assertClientError(appConfig, 'app_name with NUL')
  })

  it('refuses huge and garbage tokens', async () => {
    for (const token of [
      'x'.repeat(8000),
      '....',
      'a.b.c',
      '\u0000',
      `${'e'.repeat(3000)}.${'e'.repeat(3000)}.e`,
    ]) {
      const refresh = await post(
        new URLSearchParams({
          grant_type: 'refresh_token',
          client_id: demo.client,
          refresh_token: token,
        }).toString(),
        { dpop: await createProof(key.keyPair, { htm: 'POST', htu: tokenURL }) },
      )
      expectError(refresh, 'refresh_token', 400, 'invalid_grant')
      const exchange = await post(
        new URLSearchParams({
          grant_type: GrantType.tokenExchange,
          client_id: demo.client,
          subject_token: token,
          subject_token_type: TokenType.accessToken,
          audience: demo.resource,
        }).toString(),
        { dpop: await createProof(key.keyPair, { htm: 'POST', htu: tokenURL }) },
      )
      expectError(exchange, 'subject_token', 400, 'invalid_grant')
      const userinfo = await send(`${server.issuer()}/userinfo`, {
        headers: { authorization: `DPoP ${token.replaceAll('\u0000', '')}` },
      })
      assertClientError(userinfo, 'userinfo token')
    }
  })

  it('refuses huge and garbage DPoP headers', async () => {
    const enrollment = `grant_type=${encodeURIComponent(GrantType.anonymous)}&client_id=demo-app&authentication_mode=no`
    for (const dpop of [
      'x'.repeat(12_000),
      `${'e'.repeat(5000)}.${'e'.repeat(5000)}.e`,
      '',
      ' ',
      'a.b.c',
      'ey.ey.ey',
    ]) {
      const response = await post(enrollment, { dpop })
      expectError(response, `DPoP ${dpop.slice(0, 10)}`, 400, 'invalid_dpop_proof')
    }
    const userinfo = await send(`${server.issuer()}/userinfo`, {
      headers: { authorization: 'DPoP a.b.c', dpop: 'x'.repeat(12_000) },
    })
    assertClientError(userinfo, 'userinfo DPoP')
  })

  it('answers headers over the size limit with a 4xx JSON error', async () => {
    const response = await send(tokenURL, {
      method: 'POST',
      headers: { 'content-type': form, dpop: 'x'.repeat(20_000) },
      body: 'grant_type=refresh_token',
    })
    expectError(response, 'huge header', 431, 'invalid_request')
  })

  it('answers what is not HTTP at all with a 4xx JSON error', async () => {
    const port = Number(new URL(server.url).port)
    for (const bytes of [
      'GARBAGE\r\n\r\n',
      'POST /t/demo/token HTTP/1.1\r\nContent-Length: x\r\n\r\n',
      '\u0000\u0001\u0002\r\n\r\n',
    ]) {
      const answer = await sendBytes(port, bytes)
      const [head = '', body = ''] = answer.split('\r\n\r\n')
      assert.match(head, /^HTTP\/1\.1 4\d\d /, JSON.stringify(bytes))
      assert.equal((JSON.parse(body) as { error?: unknown }).error, 'invalid_request', JSON.stringify(bytes))
    }
  })

  it('answers unknown tenants with 404, and malformed tenant names with a 4xx', async () => {
    const response = await post(
      'grant_type=refresh_token&client_id=demo-app&refresh_token=x',
      {},
      `${server.issuer('nope')}/token`,
    )
    assert.equal(response.status, 404)
    assertClientError(response, 'unknown tenant')
    for (const tenant of ['NOPE', 'x'.repeat(100), '%00', '..', '-a']) {
      assertClientError(
        await post('grant_type=refresh_token', {}, `${server.url}/t/${tenant}/token`),
        `tenant ${tenant}`,
      )
      assertClientError(
        await send(`${server.url}/t/${tenant}/.well-known/openid-configuration`),
        `tenant ${tenant}`,
      )
    }
  })

  it('answers unknown routes and methods with a 4xx JSON error', async () => {
    assertClientError(await send(tokenURL), 'GET /token')
    assertClientError(await send(`${server.issuer()}/nowhere`), 'unknown path')
    assertClientError(await send(`${server.issuer()}/jwks`, { method: 'DELETE' }), 'DELETE /jwks')
  })

  it('left nothing half-written in the database', async () => {
    const now = await rows()
    // The token exchange case above enrolled one more device; nothing else may have been written.
    assert.deepEqual(now, {
      profiles: rowsBefore.profiles! + 1,
      devices: rowsBefore.devices! + 1,
      grants: rowsBefore.grants! + 1,
      refresh_tokens: rowsBefore.refresh_tokens! + 1,
    })
  })
})

describe('a client that never finishes its request', () => {
  let server: TestServer
  before(async () => {
    server = await startTestServer({ env: { ONRAMP_REQUEST_TIMEOUT: '1' } })
  })
  after(() => server?.close())

  it('gets 408 and a closed connection once the request timeout has passed', async () => {
    const port = Number(new URL(server.url).port)
    for (const bytes of [
      // The body never arrives in full.
      `POST /t/demo/token HTTP/1.1\r\nHost: x\r\nContent-Type: ${form}\r\nContent-Length: 100\r\n\r\ngrant_type=`,
      // The headers never end.
      'GET /healthz HTTP/1.1\r\nHost: x\r\n',
    ]) {
      const answer = await sendBytes(port, bytes, { keepOpen: true })
      const [head = '', body = ''] = answer.split('\r\n\r\n')
      assert.match(head, /^HTTP\/1\.1 408 /, JSON.stringify(bytes))
      assert.equal((JSON.parse(body) as { error?: unknown }).error, 'invalid_request')
    }
  })
})
