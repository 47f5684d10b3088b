import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Progress } from '../../src/cli/progress.ts'

function recorder(isTTY: boolean): {
  stream: { isTTY: boolean; write: (text: string) => void }
  output: () => string
} {
  let output = ''
  return {
    stream: {
      isTTY,
      write: (text) => {
        output += text
      },
    },
    output: () => output,
  }
}

describe('CLI progress', () => {
  it('redraws one bar in place on a terminal and ends its line', () => {
    const { stream, output } = recorder(true)
    const progress = new Progress(stream)
    progress.update('tenant a', 0, 4, 'profiles deleted')
    progress.update('tenant a', 1, 4, 'profiles deleted')
    progress.update('tenant a', 4, 4, 'profiles deleted')
    progress.end()
    assert.equal(
      output(),
      `\rtenant a [${'-'.repeat(30)}] 0% 0/4 profiles deleted\x1b[K` +
        `\rtenant a [${'#'.repeat(8)}${'-'.repeat(22)}] 25% 1/4 profiles deleted\x1b[K` +
        `\rtenant a [${'#'.repeat(30)}] 100% 4/4 profiles deleted\x1b[K\n`,
    )
    progress.end()
    assert.ok(output().endsWith('deleted\x1b[K\n'), 'a second end() adds nothing')
  })

  it('writes plain lines, and none for a start at zero, elsewhere', () => {
    const { stream, output } = recorder(false)
    const progress = new Progress(stream)
    progress.update('tenant a', 0, 3, 'profiles deleted')
    progress.update('tenant a', 2, 3, 'profiles deleted')
    progress.update('tenant a', 3, 3, 'profiles deleted')
    progress.end()
    assert.equal(output(), 'tenant a: 2/3 profiles deleted\ntenant a: 3/3 profiles deleted\n')
  })
})
