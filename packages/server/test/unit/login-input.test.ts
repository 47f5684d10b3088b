import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { normalizeEmail, passwordProblem } from '../../src/domain/local-account-manager.ts'
import { escapeHTML, html } from '../../src/http/login/html.ts'

describe('email addresses', () => {
  it('are trimmed, NFC-normalised and lower-cased', () => {
    assert.equal(normalizeEmail('  Ann.Smith@Example.COM '), 'ann.smith@example.com')
    assert.equal(normalizeEmail('Zoe\u0301@example.com'), 'zoé@example.com')
  })

  it('must look like addresses', () => {
    for (const bad of [
      '',
      'ann',
      '@example.com',
      'ann@',
      'ann@example',
      'a b@example.com',
      'a@b@example.com',
      `${'a'.repeat(65)}@example.com`,
      `a@${'b'.repeat(250)}.com`,
      'a\u0000@example.com',
    ]) {
      assert.equal(normalizeEmail(bad), undefined, bad)
    }
  })
})

describe('new passwords', () => {
  it('need 8 to 256 characters, counted as code points', () => {
    assert.match(passwordProblem('1234567') ?? '', /at least 8/)
    assert.equal(passwordProblem('12345678'), undefined)
    assert.equal(passwordProblem('🔑🔑🔑🔑🔑🔑🔑🔑'), undefined)
    assert.match(passwordProblem('x'.repeat(257)) ?? '', /at most 256/)
  })
})

describe('page templates', () => {
  it('escape every interpolated value, and nest safe markup as it is', () => {
    assert.equal(
      escapeHTML(`<a href="x" title='y'>&</a>`),
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    )
    const inner = html`<b>${'<i>'}</b>`
    assert.equal(
      html`<p>${inner}${['<', html`<br>`]}${undefined}${false}${null}${0}</p>`.value,
      '<p><b>&lt;i&gt;</b>&lt;<br>0</p>',
    )
  })
})
