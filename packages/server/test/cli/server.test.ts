import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { enrollAnonymous, publicUrl, startTestServer, type TestServer } from '../admin/admin-harness.ts'
import { onramp, onrampJSON } from './cli-harness.ts'

describe('onramp and a server on the same data folder', () => {
  let dataDir: string
  let env: Record<string, string>
  let server: TestServer | undefined
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'onramp-cli-'))
    env = { ONRAMP_DATA_DIR: dataDir }
  })
  after(async () => {
    await server?.close()
    await rm(dataDir, { recursive: true, force: true })
  })

  it('shows what the CLI made through the admin API of a server started afterwards', async () => {
    await onrampJSON(['tenants', 'create', 'cli-made', '--name', 'Made by the CLI'], env)
    await onrampJSON(
      ['clients', 'create', '--tenant', 'cli-made', '--client-id', 'app', '--type', 'public'],
      env,
    )

    server = await startTestServer({ dataDir })
    const tenant = await server.admin('GET', '/tenants/cli-made')
    assert.equal(tenant.status, 200)
    assert.equal(tenant.body.name, 'Made by the CLI')
    const client = await server.admin('GET', '/tenants/cli-made/clients/app')
    assert.equal(client.status, 200)
    assert.equal(client.body.type, 'public')
  })

  it('lists and revokes a device enrolled at the running server', async () => {
    assert.ok(server)
    const { key, refreshToken, deviceId } = await enrollAnonymous(server, 'cli-made', 'app')

    const listed = await onrampJSON(['devices', 'list', '--tenant', 'cli-made'], env)
    assert.deepEqual(
      listed.devices.map((d: { device_id: string }) => d.device_id),
      [deviceId],
    )
    const table = await onramp(['devices', 'list', '--tenant', 'cli-made'], env)
    assert.match(table.stdout, /^DEVICE_ID +PROFILE_ID +CLIENT_ID +MODE +LAST_SEEN +REVOKED$/m)
    assert.match(table.stdout, new RegExp(`^${deviceId} +\\S+ +app +no +\\S+Z +-$`, 'm'))

    const revoked = await onramp(['devices', 'revoke', '--tenant', 'cli-made', '--device', deviceId], env)
    assert.equal(revoked.code, 0, revoked.stderr)
    assert.equal(revoked.stdout, `Revoked device "${deviceId}" and 1 active grant.\n`)
    const shown = await onrampJSON(['devices', 'show', '--tenant', 'cli-made', '--device', deviceId], env)
    assert.equal(typeof shown.revoked_at, 'number')

    const refresh = await server.tenantRequest('cli-made', 'POST', '/token', {
      form: { grant_type: 'refresh_token', client_id: 'app', refresh_token: refreshToken },
      headers: { dpop: key.proof('POST', `${publicUrl}/t/cli-made/token`) },
    })
    assert.equal(refresh.status, 400)
    assert.equal(refresh.body.error, 'invalid_grant')
  })
})
