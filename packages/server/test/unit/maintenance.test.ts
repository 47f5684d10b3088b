import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { loadConfig } from '../../src/config/config.ts'
import type { AnonymousEnrollment } from '../../src/domain/device-manager.ts'
import { sweepExpired } from '../../src/domain/maintenance.ts'
import type { Services } from '../../src/domain/services.ts'
import { closeServices, openServices } from '../../src/runtime.ts'

describe('sweeping expired tokens and keys', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'onramp-sweep-'))
  let services: Services

  before(async () => {
    services = await openServices(loadConfig({ env: { ONRAMP_DATA_DIR: dataDir }, argv: [] }))
  })
  after(async () => {
    await closeServices(services)
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('deletes refresh tokens past their expiry and keys no longer published, nothing else', async () => {
    const tenant = await services.tenants.create({ id: 'sweep', settings: { refreshTokenIdleTtl: 60 } })
    const enrollment: AnonymousEnrollment = {
      clientId: 'app',
      jkt: 'jkt',
      authenticationMode: 'no',
      hardwareKey: false,
      scope: '',
      amr: ['anon'],
    }
    const { refreshToken } = await services.devices.enrollAnonymous(tenant, enrollment)
    await services.tenants.rotateSigningKey(tenant.id)
    const now = services.clock.now()

    assert.deepEqual(await sweepExpired(services.store, { now: () => now }), {
      refreshTokens: 0,
      authorizationCodes: 0,
      signingKeys: 0,
    })
    assert.ok(await services.refreshTokens.find(tenant, refreshToken))

    const later = { now: () => now + 24 * 3600 }
    assert.deepEqual(await sweepExpired(services.store, later), {
      refreshTokens: 1,
      authorizationCodes: 0,
      signingKeys: 1,
    })
    assert.equal(await services.refreshTokens.find(tenant, refreshToken), undefined)
    assert.equal((await services.keys.list(tenant.id)).length, 1)
  })
})
