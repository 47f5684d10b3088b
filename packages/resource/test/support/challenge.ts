import assert from 'node:assert/strict'
import { ResourceError } from '../../src/index.ts'

export interface ExpectedRefusal {
  status: number
  code: string
  /** The scheme(s) the challenge offers. */
  scheme: 'Bearer' | 'DPoP' | 'both'
  /** A challenge without an error code (a request without credentials). */
  hasErrorCode?: boolean
  message?: RegExp
}

/** Asserts a refusal and its `WWW-Authenticate` challenge (RFC 6750 §3, RFC 9449 §7.1). */
export function assertRefusal(error: unknown, expected: ExpectedRefusal): ResourceError {
  assert.ok(error instanceof ResourceError, `expected a ResourceError, got ${String(error)}`)
  assert.equal(error.code, expected.code, error.message)
  assert.equal(error.status, expected.status)
  if (expected.message) assert.match(error.message, expected.message)
  assertChallenge(error.headers['www-authenticate'], expected)
  assert.deepEqual(error.body, { error: expected.code, error_description: error.message })
  return error
}

export function assertChallenge(header: string | null | undefined, expected: ExpectedRefusal): void {
  assert.ok(header, 'WWW-Authenticate is missing')
  const hasBearer = /(^|, )Bearer( |,|$)/.test(header)
  const hasDPoP = /(^|, )DPoP algs="ES256 [^"]*"/.test(header)
  assert.equal(hasBearer, expected.scheme !== 'DPoP', `Bearer challenge in: ${header}`)
  assert.equal(hasDPoP, expected.scheme !== 'Bearer', `DPoP challenge in: ${header}`)
  if (expected.hasErrorCode === false) {
    assert.doesNotMatch(header, /error=/)
  } else {
    assert.match(header, new RegExp(`error="${expected.code}", error_description="[^"]+"`))
    if (expected.scheme === 'both') assert.equal(header.match(/error=/g)?.length, 2)
  }
}

/** Runs `promise` and returns what it threw. */
export async function refusalOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  assert.fail('expected a refusal, but the request was accepted')
}
