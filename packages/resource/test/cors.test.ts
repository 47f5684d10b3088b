import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CORSPolicy, varyOn } from '../src/http/cors.ts'

describe('CORS policy', () => {
  it('allows the listed origins, or those a function accepts, and never the opaque origin', () => {
    const listed = new CORSPolicy({ origins: ['https://app.example.com', 'http://localhost:5173'] })
    assert.equal(
      listed.responseHeaders('http://localhost:5173')['access-control-allow-origin'],
      'http://localhost:5173',
    )
    assert.deepEqual(listed.responseHeaders('https://app.example.com:443'), {})
    assert.deepEqual(listed.responseHeaders(undefined), {})
    const decided = new CORSPolicy({ origins: (origin) => origin.endsWith('.example.com') })
    assert.equal(decided.preflightHeaders('https://a.example.com')['access-control-max-age'], '600')
    assert.deepEqual(decided.preflightHeaders('https://example.org'), {})
    assert.deepEqual(new CORSPolicy({ origins: () => true }).responseHeaders('null'), {})
  })

  it('takes a preflight for one only with OPTIONS, Origin and Access-Control-Request-Method', () => {
    const policy = new CORSPolicy({ origins: [] })
    assert.equal(policy.isPreflight('OPTIONS', 'https://a.example', 'POST'), true)
    assert.equal(policy.isPreflight('OPTIONS', undefined, 'POST'), false)
    assert.equal(policy.isPreflight('OPTIONS', 'https://a.example', undefined), false)
    assert.equal(policy.isPreflight('POST', 'https://a.example', 'POST'), false)
  })

  it('refuses a bad maxAge', () => {
    for (const maxAge of [-1, 1.5, Number.NaN])
      assert.throws(() => new CORSPolicy({ origins: [], maxAge }), RangeError)
  })

  it('adds Origin to Vary once', () => {
    assert.equal(varyOn(undefined, 'Origin'), 'Origin')
    assert.equal(varyOn('Accept-Encoding', 'Origin'), 'Accept-Encoding, Origin')
    assert.equal(varyOn('accept-encoding, origin', 'Origin'), 'accept-encoding, origin')
    assert.equal(varyOn('*', 'Origin'), '*')
  })
})
