import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { ConfigError, envName, flagName, loadConfig } from '../../src/config/config.ts'

describe('configuration', () => {
  it('has defaults', () => {
    const config = loadConfig({ env: {}, argv: [] })
    assert.equal(config.port, 8080)
    assert.equal(config.publicUrl, 'http://localhost:8080')
    assert.equal(config.enrollmentRateLimit, true)
    assert.equal(config.databaseUrl, undefined)
  })

  it('takes flags over environment over file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'onramp-config-'))
    const file = join(dir, 'config.json')
    writeFileSync(file, JSON.stringify({ port: 1000, logLevel: 'debug', host: '127.0.0.1' }))
    const config = loadConfig({
      env: { ONRAMP_PORT: '2000', ONRAMP_LOG_LEVEL: 'warn' },
      argv: ['--config', file, '--port=3000'],
    })
    assert.equal(config.port, 3000)
    assert.equal(config.logLevel, 'warn')
    assert.equal(config.host, '127.0.0.1')
  })

  it('reports every problem at once, naming the variable', () => {
    assert.throws(
      () =>
        loadConfig({
          env: { ONRAMP_PORT: 'x', ONRAMP_ENROLLMENT_RATE_LIMIT: 'maybe', ONRAMP_DATABASE_URL: 'mysql://x' },
          argv: ['--nope', '1'],
        }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError)
        assert.match(error.message, /ONRAMP_PORT: must be a port number/)
        assert.match(error.message, /ONRAMP_ENROLLMENT_RATE_LIMIT: must be on\/off/)
        assert.match(error.message, /ONRAMP_DATABASE_URL: only postgres/)
        assert.match(error.message, /unknown flag --nope/)
        return true
      },
    )
  })

  it('accepts off to lift the enrollment rate limit', () => {
    assert.equal(
      loadConfig({ env: { ONRAMP_ENROLLMENT_RATE_LIMIT: 'off' }, argv: [] }).enrollmentRateLimit,
      false,
    )
  })

  it('refuses a master key that is not 32 bytes', () => {
    assert.throws(() => loadConfig({ env: { ONRAMP_MASTER_KEY: 'abcd' }, argv: [] }), /ONRAMP_MASTER_KEY/)
    assert.equal(
      loadConfig({ env: { ONRAMP_MASTER_KEY: 'a'.repeat(64) }, argv: [] }).masterKey,
      'a'.repeat(64),
    )
  })

  it('names options consistently', () => {
    assert.equal(envName('enrollmentLimitPerIp'), 'ONRAMP_ENROLLMENT_LIMIT_PER_IP')
    assert.equal(flagName('enrollmentLimitPerIp'), '--enrollment-limit-per-ip')
  })
})
