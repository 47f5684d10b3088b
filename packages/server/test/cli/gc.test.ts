import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { loadConfig } from '../../src/config/config.ts'
import type { AnonymousEnrollment } from '../../src/domain/device-manager.ts'
import { closeServices, openServices } from '../../src/runtime.ts'
import { openDatabase, sqlitePathIn } from '../../src/store/connect.ts'
import { onramp, onrampJSON } from './cli-harness.ts'

const day = 24 * 3600
const enrollment: AnonymousEnrollment = {
  clientId: 'app',
  jkt: 'jkt',
  authenticationMode: 'no',
  hardwareKey: false,
  scope: '',
  amr: ['anon'],
}

describe('onramp gc', () => {
  let dataDir: string
  let env: Record<string, string>

  /** Tenant `shop` (inactivity limit 10 days): three profiles unused for longer, two recent ones. */
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'onramp-cli-gc-'))
    env = { ONRAMP_DATA_DIR: dataDir }
    const services = await openServices(loadConfig({ env, argv: [] }))
    const { db } = openDatabase({ sqlitePath: sqlitePathIn(dataDir) })
    try {
      const shop = await services.tenants.create({ id: 'shop', settings: { anonymousInactivityDays: 10 } })
      await services.tenants.create({ id: 'quiet' })
      const now = services.clock.now()
      for (const [daysAgo, attributes] of [
        [11, 2],
        [50, 0],
        [365, 0],
        [9, 1],
        [0, 0],
      ] as const) {
        const { device } = await services.devices.enrollAnonymous(shop, enrollment)
        for (let i = 0; i < attributes; i++)
          await services.profiles.putAttribute(shop.id, device.profileId, `a${i}`, [i])
        await db
          .updateTable('profiles')
          .set({ last_active_at: now - daysAgo * day })
          .where('id', '=', device.profileId)
          .execute()
      }
    } finally {
      await db.destroy()
      await closeServices(services)
    }
  })
  after(async () => {
    await rm(dataDir, { recursive: true, force: true })
  })

  it('counts with --dry-run and deletes nothing', async () => {
    const text = await onramp(['gc', '--dry-run'], env)
    assert.equal(text.code, 0, text.stderr)
    assert.equal(text.stderr, '')
    const [summary, blank, header, ...rows] = text.stdout.trimEnd().split('\n')
    assert.equal(
      summary,
      'Dry run: 3 inactive anonymous profiles with 3 devices, 3 grants, 3 refresh tokens and 2 attributes would be deleted. Nothing was deleted.',
    )
    assert.equal(blank, '')
    assert.match(header!, /^TENANT +INACTIVE_BEFORE +PROFILES +DEVICES +GRANTS +REFRESH_TOKENS +ATTRIBUTES$/)
    assert.match(rows[0]!, /^quiet +\d{4}-\d\d-\d\dT\S+Z +0 +0 +0 +0 +0$/)
    assert.match(rows[1]!, /^shop +\d{4}-\d\d-\d\dT\S+Z +3 +3 +3 +3 +2$/)

    const json = await onrampJSON(['gc', '--dry-run', '--tenant', 'shop'], env)
    assert.equal(json.dry_run, true)
    assert.deepEqual(json.total, { profiles: 3, devices: 3, grants: 3, refresh_tokens: 3, attributes: 2 })
    assert.equal(json.tenants.length, 1)
    assert.equal(json.tenants[0].tenant_id, 'shop')
    assert.ok(Math.abs(json.tenants[0].inactive_before - (Date.now() / 1000 - 10 * day)) < 60)
    // Nothing went.
    assert.equal((await onrampJSON(['devices', 'list', '--tenant', 'shop'], env)).devices.length, 5)
  })

  it('deletes in batches, with a line of progress per batch when stderr is no terminal, and a summary', async () => {
    const result = await onramp(['gc', '--batch-size', '2'], env)
    assert.equal(result.code, 0, result.stderr)
    assert.equal(result.stderr, 'tenant shop: 2/3 profiles deleted\ntenant shop: 3/3 profiles deleted\n')
    assert.match(
      result.stdout,
      /^Deleted 3 inactive anonymous profiles with 3 devices, 3 grants, 3 refresh tokens and 2 attributes\.\n/,
    )
    assert.match(result.stdout, /^shop +\S+ +3 +3 +3 +3 +2$/m)
    assert.equal((await onrampJSON(['devices', 'list', '--tenant', 'shop'], env)).devices.length, 2)

    const again = await onrampJSON(['gc'], env)
    assert.deepEqual(again.total, { profiles: 0, devices: 0, grants: 0, refresh_tokens: 0, attributes: 0 })
    assert.equal(again.dry_run, false)
  })

  it('reports an unknown tenant (exit 1) and a bad batch size (exit 2)', async () => {
    const unknown = await onramp(['gc', '--tenant', 'nobody'], env)
    assert.equal(unknown.code, 1)
    assert.equal(unknown.stderr, 'onramp: tenant "nobody" does not exist\n')
    for (const size of ['0', '5001', 'many']) {
      const bad = await onramp(['gc', '--batch-size', size], env)
      assert.equal(bad.code, 2, size)
      assert.match(bad.stderr, /^onramp: --batch-size must be .*\(see "onramp gc --help"\)\n$/)
    }
  })

  it('explains itself with --help', async () => {
    const help = await onramp(['gc', '--help'], { ONRAMP_DATA_DIR: join(dataDir, 'never') })
    assert.equal(help.code, 0)
    assert.match(help.stdout, /^Usage: onramp gc \[options\]/)
    for (const option of ['--tenant TENANT', '--dry-run', '--batch-size N'])
      assert.match(help.stdout, new RegExp(`  ${option}`), option)
    const top = await onramp(['--help'], { ONRAMP_DATA_DIR: join(dataDir, 'never') })
    assert.match(top.stdout, /^ {2}gc +delete anonymous profiles/m)
  })
})
