import assert from 'node:assert/strict'
import { readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { FileStorage } from '../../src/adapters/node/index.ts'
import { MemoryStorage } from '../../src/index.ts'
import { temporaryDirectory } from '../support/onramp-fixture.ts'

describe('MemoryStorage', () => {
  it('keeps copies: changing a value after set or get does not change the record', async () => {
    const storage = new MemoryStorage()
    const value = { list: [1] }
    await storage.set('k', value)
    value.list.push(2)
    const read = (await storage.get('k')) as { list: number[] }
    read.list.push(3)
    assert.deepEqual(await storage.get('k'), { list: [1] })
    await storage.delete('k')
    assert.equal(await storage.get('k'), undefined)
  })
})

describe('FileStorage', async () => {
  const folder = await temporaryDirectory()
  after(() => folder.remove())

  it('keeps one file per namespace, owner-only, in a folder it creates owner-only', async () => {
    const directory = join(folder.path, 'new', 'sdk')
    const storage = new FileStorage({ directory, namespace: 'app-1' })
    assert.equal(storage.path, join(directory, 'app-1.json'))
    await storage.set('enrollment', { a: 1, skipped: undefined })
    assert.equal((await stat(directory)).mode & 0o777, 0o700)
    assert.equal((await stat(storage.path)).mode & 0o777, 0o600)
    assert.deepEqual(JSON.parse(await readFile(storage.path, 'utf8')), { enrollment: { a: 1 } })
    const again = new FileStorage({ directory, namespace: 'app-1' })
    assert.deepEqual(await again.get('enrollment'), { a: 1 })
    assert.equal(await new FileStorage({ directory, namespace: 'app-2' }).get('enrollment'), undefined)
  })

  it('replaces the file by rename, leaving no temporary files, and serialises its writes', async () => {
    const directory = join(folder.path, 'serial')
    const storage = new FileStorage({ directory })
    await Promise.all(Array.from({ length: 20 }, (_, i) => storage.set(`key-${i}`, i)))
    await storage.delete('key-0')
    for (let i = 1; i < 20; i++) assert.equal(await storage.get(`key-${i}`), i)
    assert.equal(await storage.get('key-0'), undefined)
    assert.deepEqual(await readdir(directory), ['onramp.json'])
  })

  it('is not disturbed by what a crashed write left behind', async () => {
    const directory = join(folder.path, 'crash')
    const storage = new FileStorage({ directory })
    await storage.set('enrollment', { version: 1 })
    // A writer that died before its rename leaves a temporary file; the record is the last complete one.
    await writeFile(`${storage.path}.dead.tmp`, '{"enrollment":{"vers', { mode: 0o600 })
    assert.deepEqual(await storage.get('enrollment'), { version: 1 })
    await storage.set('enrollment', { version: 2 })
    assert.deepEqual(await new FileStorage({ directory }).get('enrollment'), { version: 2 })
  })

  it('lets a failed write leave the last complete file, and goes on writing', async () => {
    const directory = join(folder.path, 'failing')
    const storage = new FileStorage({ directory })
    await storage.set('enrollment', { version: 1 })
    await assert.rejects(storage.set('enrollment', { big: 10n } as never), TypeError)
    assert.deepEqual(await storage.get('enrollment'), { version: 1 })
    await storage.set('other', true)
    assert.deepEqual(await storage.get('enrollment'), { version: 1 })
  })

  it('refuses namespaces that are not plain file names, and damaged files', async () => {
    for (const namespace of ['', '.', '..', 'a/b', '../up', 'x'.repeat(129)])
      assert.throws(() => new FileStorage({ directory: folder.path, namespace }), RangeError, namespace)
    const storage = new FileStorage({ directory: folder.path, namespace: 'damaged' })
    await writeFile(storage.path, '[1,2]')
    await assert.rejects(storage.get('enrollment'), /does not hold an object/)
  })
})
