import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { onramp } from './cli-harness.ts'

describe('onramp: usage, help and configuration', () => {
  let dir: string
  /** A data folder that must never be created: help and usage errors touch no storage. */
  let untouched: Record<string, string>
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'onramp-cli-'))
    untouched = { ONRAMP_DATA_DIR: join(dir, 'never') }
  })
  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('prints the commands with --help and exits 0', async () => {
    const result = await onramp(['--help'], untouched)
    assert.equal(result.code, 0)
    for (const command of ['migrate', 'tenants', 'clients', 'resources', 'devices', 'keys'])
      assert.match(result.stdout, new RegExp(`^  ${command}`, 'm'))
    assert.match(result.stdout, /ONRAMP_DATA_DIR/)
  })

  it('prints help and exits 2 without a command', async () => {
    const result = await onramp([], untouched)
    assert.equal(result.code, 2)
    assert.match(result.stdout, /^Usage: onramp/)
  })

  it('prints help for each group and command', async () => {
    const group = await onramp(['clients', '--help'], untouched)
    assert.equal(group.code, 0)
    assert.match(group.stdout, /rotate-secret/)
    const command = await onramp(['clients', 'create', '--help'], untouched)
    assert.equal(command.code, 0)
    assert.match(command.stdout, /^Usage: onramp clients create --tenant TENANT --client-id ID --type/)
    for (const option of ['--scopes', '--grant-types', '--redirect-uris', '--json', '--config'])
      assert.match(command.stdout, new RegExp(`  ${option}`), option)
    const short = await onramp(['keys', 'rotate', '-h'], untouched)
    assert.equal(short.code, 0)
    assert.match(short.stdout, /until every token it signed has expired/)
  })

  it('reports usage errors in one line on stderr with exit code 2', async () => {
    for (const args of [
      ['frobnicate'],
      ['tenants', 'rename'],
      ['tenants', 'create'],
      ['tenants', 'create', 'a', 'b'],
      ['tenants', 'create', 'a', '--colour', 'red'],
      ['tenants', 'create', 'a', '--access-token-ttl', 'soon'],
      ['clients', 'list'],
      ['clients', 'create', '--tenant', 't', '--client-id', 'c'],
      ['clients', 'create', '--tenant', 't', '--client-id', 'c', '--type', 'hybrid'],
      ['resources', 'create', '--tenant', 't', '--audience', 'a', '--authentication-modes', 'face'],
      ['devices', 'list', '--tenant', 't', '--limit', '0'],
    ]) {
      const result = await onramp(args, untouched)
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`)
      assert.equal(result.stdout, '', args.join(' '))
      assert.match(result.stderr, /^onramp: [^\n]+\(see "onramp[^"]*--help"\)\n$/, args.join(' '))
    }
    assert.equal(existsSync(untouched.ONRAMP_DATA_DIR!), false)
  })

  it('reads the server configuration from the environment, with a clear error when it is invalid', async () => {
    const result = await onramp(['tenants', 'list'], { ...untouched, ONRAMP_MASTER_KEY: 'too-short' })
    assert.equal(result.code, 2)
    assert.equal(
      result.stderr,
      'onramp: Invalid configuration: ONRAMP_MASTER_KEY: must be 32 bytes as 64 hex digits or base64\n',
    )
  })

  it('reads the server configuration from --config', async () => {
    const dataDir = join(dir, 'from-file')
    const file = join(dir, 'onramp.json')
    await writeFile(file, JSON.stringify({ dataDir, seedDemo: false }))
    const result = await onramp(['tenants', 'list', '--config', file], {})
    assert.equal(result.code, 0, result.stderr)
    assert.equal(result.stdout, 'No tenants.\n')
    assert.ok(existsSync(join(dataDir, 'onramp.db')))

    const bad = join(dir, 'bad.json')
    await writeFile(bad, JSON.stringify({ dataDirectory: dataDir }))
    const refused = await onramp(['tenants', 'list', '--config', bad], {})
    assert.equal(refused.code, 2)
    assert.match(refused.stderr, /^onramp: Invalid configuration: .*unknown option "dataDirectory"\n$/)
  })

  it('migrates a new database once', async () => {
    const env = { ONRAMP_DATA_DIR: join(dir, 'migrate') }
    const first = await onramp(['migrate'], env)
    assert.equal(first.code, 0, first.stderr)
    assert.match(first.stdout, /^Applied migration 0001-initial$/m)
    const again = await onramp(['migrate', '--json'], env)
    assert.equal(again.code, 0)
    assert.deepEqual(JSON.parse(again.stdout), { applied: [] })
  })
})
