import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Measurement } from '../lib/load.ts'
import { formatRatios, type Ratio, type Row } from '../lib/report.ts'

const ratio: Ratio = { label: 'ours / peer', numerator: 'ours', denominator: 'peer', target: 1.5 }

function row(of: string, round: number, reqPerSec: number): Row {
  return { scenario: of, of, round, measurement: { reqPerSec } as Measurement }
}

describe('formatRatios', () => {
  it('divides by the mean of the denominator’s windows within one round', () => {
    const rows = [row('peer', 1, 1000), row('ours', 1, 1500), row('peer', 1, 1200)]
    assert.deepEqual(formatRatios([ratio], rows), [
      'ours / peer: 1.36x (denominator: mean of 2 windows, 1,100 req/s) (target >= 1.5x: MISSED)',
    ])
  })

  it('judges the median of several rounds, so that one stalled window does not decide', () => {
    const rows = [
      row('peer', 1, 1000),
      row('ours', 1, 1600),
      row('peer', 2, 1000),
      row('ours', 2, 700),
      row('peer', 3, 1000),
      row('ours', 3, 1550),
    ]
    assert.deepEqual(formatRatios([ratio], rows), [
      'ours / peer: 1.55x, median of 3 rounds (1.60x, 0.70x, 1.55x) (target >= 1.5x: reached)',
    ])
  })

  it('leaves out a ratio with a side not measured', () => {
    assert.deepEqual(formatRatios([ratio], [row('peer', 1, 1000)]), [])
  })
})

describe('formatRatios without a target', () => {
  it('reports the ratio and judges nothing', () => {
    const report: Ratio = { label: 'ours / floor', numerator: 'ours', denominator: 'floor' }
    assert.deepEqual(formatRatios([report], [row('floor', 1, 2000), row('ours', 1, 1500)]), [
      'ours / floor: 0.75x',
    ])
  })
})
