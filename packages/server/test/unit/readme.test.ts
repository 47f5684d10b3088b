import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { configOptions, envName, flagName } from '../../src/config/config.ts'

const readme = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8')

describe('README', () => {
  it('documents every configuration option with its variable and flag', () => {
    for (const option of configOptions) {
      const row = readme
        .split('\n')
        .find((line) => new RegExp(`^\\|\\s*\`${envName(option.key)}\`\\s*\\|`).test(line))
      assert.ok(row, `${envName(option.key)} is missing from the README`)
      assert.ok(
        row.includes(`\`${flagName(option.key)}\``),
        `${flagName(option.key)} is missing from the README`,
      )
    }
  })

  it('shows the two commands', () => {
    assert.match(readme, /npm install && npm start/)
    assert.match(readme, /npm test/)
  })
})
