import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { authenticationResultsURL, wwwAuthenticate } from '../../src/apple/challenge.ts'
import { parseChallenge } from './device-emulator.ts'

describe('the account-driven enrollment challenge', () => {
  it('is written exactly as Apple documents it, for both methods', () => {
    assert.equal(
      wwwAuthenticate({ method: 'apple-as-web', url: 'https://mdm.example.com/t/acme/apple/login' }),
      'Bearer method="apple-as-web", url="https://mdm.example.com/t/acme/apple/login"',
    )
    assert.equal(
      wwwAuthenticate({
        method: 'apple-oauth2',
        authorizationURL: 'https://mdm.example.com/t/acme/authorize',
        tokenURL: 'https://mdm.example.com/t/acme/token',
        redirectURL: 'apple-remotemanagement-user-login:/oauth2/redirection',
        clientId: 'apple-enrollment',
        scope: 'mdm',
      }),
      'Bearer method="apple-oauth2", authorization-url="https://mdm.example.com/t/acme/authorize", ' +
        'token-url="https://mdm.example.com/t/acme/token", ' +
        'redirect-url="apple-remotemanagement-user-login:/oauth2/redirection", client-id="apple-enrollment", scope="mdm"',
    )
  })

  it('escapes quotes and backslashes in values', () => {
    const header = wwwAuthenticate({ method: 'apple-as-web', url: 'https://x.example/a"b\\c' })
    assert.equal(parseChallenge(header).params.url, 'https://x.example/a"b\\c')
  })

  it('is parsed by the emulator in the comma, whitespace and folded forms', () => {
    const expected = {
      scheme: 'Bearer',
      params: { method: 'apple-as-web', url: 'https://mdm.example.com/authenticate' },
    }
    for (const header of [
      'Bearer method="apple-as-web", url="https://mdm.example.com/authenticate"',
      'Bearer method="apple-as-web" url="https://mdm.example.com/authenticate"',
      'Bearer method="apple-as-web",\n    url="https://mdm.example.com/authenticate"',
      'Bearer method=apple-as-web,url="https://mdm.example.com/authenticate"',
    ]) {
      assert.deepEqual(parseChallenge(header), expected, header)
    }
  })

  it('ends the simple method with the authentication-results URL', () => {
    const url = new URL(authenticationResultsURL('eyJ.a-b_c.d'))
    assert.equal(url.protocol, 'apple-remotemanagement-user-login:')
    assert.equal(url.host, 'authentication-results')
    assert.equal(url.searchParams.get('access-token'), 'eyJ.a-b_c.d')
    assert.equal(
      authenticationResultsURL('eyJ.a-b_c.d'),
      'apple-remotemanagement-user-login://authentication-results?access-token=eyJ.a-b_c.d',
    )
  })
})
