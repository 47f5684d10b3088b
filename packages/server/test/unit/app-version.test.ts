import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { appVersionStatus, compareVersions } from '../../src/domain/app-config-manager.ts'

describe('app versions', () => {
  it('compares dotted versions numerically, pre-releases first', () => {
    assert.ok(compareVersions('2.10.0', '2.9.9') > 0)
    assert.equal(compareVersions('1.0', '1.0.0'), 0)
    assert.ok(compareVersions('1.0.0-beta', '1.0.0') < 0)
    assert.ok(compareVersions('1.0.0-alpha', '1.0.0-beta') < 0)
  })

  it('tells ok, update_available and update_necessary, with platform overrides', () => {
    const policy = {
      minVersion: '2.0.0',
      latestVersion: '2.3.0',
      platforms: { ios: { minVersion: '2.1.0' } },
    }
    assert.equal(appVersionStatus(policy, '1.9.9', undefined).status, 'update_necessary')
    assert.equal(appVersionStatus(policy, '2.0.0', undefined).status, 'update_available')
    assert.equal(appVersionStatus(policy, '2.0.0', 'ios').status, 'update_necessary')
    assert.deepEqual(appVersionStatus(policy, '2.3.0', 'android'), {
      status: 'ok',
      min_version: '2.0.0',
      latest_version: '2.3.0',
    })
    assert.deepEqual(appVersionStatus(undefined, '0.1', undefined), { status: 'ok' })
  })
})
