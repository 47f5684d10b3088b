import assert from 'node:assert/strict'
import { randomUUID, X509Certificate } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { timeOrderedId } from '../../src/crypto/secrets.ts'
import { admin, appleTenant } from '../apple/support.ts'
import { profileSigningPKI, pushCertificate } from '../apple/test-pki.ts'
import { postForm, send } from '../support/http.ts'
import { startTestServer, type TestServer } from '../support/server.ts'

/** `name{labels} value` lines of a Prometheus text exposition, by name and label text. */
function samples(text: string): Map<string, number> {
  const found = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue
    const split = line.lastIndexOf(' ')
    found.set(line.slice(0, split), Number(line.slice(split + 1)))
  }
  return found
}

describe('GET /metrics', () => {
  let server: TestServer

  before(async () => {
    server = await startTestServer()
  })
  after(() => server?.close())

  async function scrape(): Promise<{ text: string; samples: Map<string, number> }> {
    const response = await send(`${server.url}/metrics`)
    assert.equal(response.status, 200)
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
    return { text: String(response.body), samples: samples(String(response.body)) }
  }

  it('counts requests by route pattern, method and status, and times them per route', async () => {
    const token = `${server.issuer()}/token`
    const before = (await scrape()).samples
    const secretish = 'never-a-label-0123456789'
    for (let i = 0; i < 3; i++) {
      const response = await postForm(token, { grant_type: 'client_credentials', client_id: secretish })
      assert.equal(response.status, 401)
    }
    assert.equal((await send(`${server.issuer()}/jwks`)).status, 200)
    assert.equal((await send(`${server.url}/no/such/${secretish}`)).status, 404)

    const { text, samples: after } = await scrape()
    const delta = (name: string): number => (after.get(name) ?? 0) - (before.get(name) ?? 0)
    assert.equal(delta('onramp_http_requests_total{route="/t/:tenant/token",method="POST",status="401"}'), 3)
    assert.equal(delta('onramp_http_requests_total{route="/t/:tenant/jwks",method="GET",status="200"}'), 1)
    assert.equal(delta('onramp_http_requests_total{route="unmatched",method="GET",status="404"}'), 1)

    // A histogram: cumulative buckets ending in +Inf, which equals the count, and a sum.
    const route = 'route="/t/:tenant/token"'
    assert.equal(delta(`onramp_http_request_duration_seconds_count{${route}}`), 3)
    assert.equal(delta(`onramp_http_request_duration_seconds_bucket{le="+Inf",${route}}`), 3)
    const bounds = ['0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '+Inf']
    const buckets = bounds.map((le) =>
      after.get(`onramp_http_request_duration_seconds_bucket{le="${le}",${route}}`),
    )
    assert.ok(buckets.every((value) => value !== undefined))
    assert.deepEqual(
      [...buckets].sort((a, b) => a! - b!),
      buckets,
      'buckets are cumulative',
    )
    assert.ok((after.get(`onramp_http_request_duration_seconds_sum{${route}}`) ?? 0) > 0)
    assert.match(text, /# TYPE onramp_http_requests_total counter/)
    assert.match(text, /# TYPE onramp_http_request_duration_seconds histogram/)

    // Process metrics come along; the tenant's id and what clients send never become labels.
    assert.ok(after.has('onramp_process_cpu_user_seconds_total'))
    assert.doesNotMatch(text, new RegExp(secretish))
    assert.doesNotMatch(text, /route="\/t\/demo/)
  })

  it('moves to the admin port when there is one, and counts the public port’s requests there', async () => {
    const separate = await startTestServer({ env: { ONRAMP_ADMIN_PORT: '0' } })
    try {
      const address = separate.runtime.adminApp?.server.address()
      assert.ok(address && typeof address === 'object')
      assert.equal((await send(`${separate.issuer()}/jwks`)).status, 200)
      assert.equal((await send(`${separate.url}/metrics`)).status, 404)
      const scraped = await send(`http://127.0.0.1:${address.port}/metrics`)
      assert.equal(scraped.status, 200)
      assert.equal(
        samples(String(scraped.body)).get(
          'onramp_http_requests_total{route="/t/:tenant/jwks",method="GET",status="200"}',
        ),
        1,
      )
    } finally {
      await separate.close()
    }
  })
})

describe('GET /metrics: when the tenants’ Apple certificates expire', () => {
  const run = timeOrderedId().slice(-6)
  const tenant = `apple-expiry-${run}`
  const folder = mkdtempSync(join(tmpdir(), 'onramp-certificate-expiry-'))
  let server: TestServer

  before(async () => {
    server = await startTestServer()
  })
  after(async () => {
    await server?.close()
    rmSync(folder, { recursive: true, force: true })
  })

  const notAfter = (pem: string): number => Math.floor(new X509Certificate(pem).validToDate.getTime() / 1000)
  const expiry = (certificate: string) =>
    `onramp_apple_certificate_expiry_timestamp_seconds{tenant="${tenant}",certificate="${certificate}"}`
  async function scrape(): Promise<Map<string, number>> {
    const response = await send(`${server.url}/metrics`)
    assert.equal(response.status, 200)
    assert.match(String(response.body), /# TYPE onramp_apple_certificate_expiry_timestamp_seconds gauge/)
    return samples(String(response.body))
  }

  it('gives the device CA’s, the push certificate’s and the signing chain’s first expiry, per tenant', async () => {
    assert.ok(![...(await scrape()).keys()].some((name) => name.includes(tenant)))

    const push = pushCertificate(folder, 'push', randomUUID())
    await appleTenant(server, tenant, { domain: `initech-${run}.example`, topic: push.topic })
    const pushed = await admin(server, 'PUT', `/tenants/${tenant}/apple/push-certificate`, {
      certificate: push.certificate,
      private_key: push.privateKey,
    })
    assert.equal(pushed.status, 200, JSON.stringify(pushed.body))
    const { signer, intermediate } = profileSigningPKI(folder)
    const signing = await admin(server, 'PUT', `/tenants/${tenant}/apple/profile-signing-certificate`, {
      certificate: signer.certificate + intermediate.certificate,
      private_key: signer.privateKey,
    })
    assert.equal(signing.status, 200, JSON.stringify(signing.body))

    const scraped = await scrape()
    assert.equal(scraped.get(expiry('device_ca')), notAfter(signing.body.ca_certificate))
    assert.equal(scraped.get(expiry('push')), notAfter(push.certificate))
    // The intermediate expires ten days before the signer: profiles stop verifying with it.
    assert.ok(notAfter(intermediate.certificate) < notAfter(signer.certificate))
    assert.equal(scraped.get(expiry('profile_signing')), notAfter(intermediate.certificate))

    const removed = await admin(server, 'DELETE', `/tenants/${tenant}/apple/profile-signing-certificate`)
    assert.equal(removed.status, 200, JSON.stringify(removed.body))
    const after = await scrape()
    assert.equal(after.has(expiry('profile_signing')), false)
    assert.equal(after.get(expiry('push')), notAfter(push.certificate))
  })
})
