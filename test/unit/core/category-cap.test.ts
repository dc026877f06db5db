// A categorical feature past the category caps says so in the report (README, "Caps").

import { describe, expect, it } from 'vitest'
import { createDefaultRegistry } from '../../../src/core/drift-tests/registry.js'
import { evaluateDrift } from '../../../src/core/evaluate.js'
import { defaultCategoryCap, defaultUnseenCap } from '../../../src/core/profile/categorical.js'
import { currentOf, referenceOf } from '../../helpers/profiles.js'

const registry = createDefaultRegistry()
const ids = (n: number, prefix = 'id'): string[] =>
  Array.from({ length: n }, (_, i) => `${prefix}${i}`)

function featureOf(ref: string[], cur: string[]) {
  const reference = referenceOf('x', 'categorical', ref)
  const current = currentOf(reference, 'x', cur)
  const report = evaluateDrift(reference, current, { registry, settings: { driftShare: 0.5 } })
  const feature = report.features[0]
  if (feature === undefined) throw new Error('no feature')
  return feature
}

describe('category caps in the report', () => {
  it('no note while every category fits', () => {
    expect(featureOf(ids(500), ids(500)).categoryCap).toBeUndefined()
  })

  it('5,000 IDs on both sides: the reference cap is reported with the folded shares', () => {
    const feature = featureOf(ids(5000), ids(5000))
    expect(feature.categoryCap).toEqual({
      referenceCategories: defaultCategoryCap,
      referenceFoldedShare: (5000 - defaultCategoryCap) / 5000,
      currentFoldedShare: (5000 - defaultCategoryCap - defaultUnseenCap) / 5000,
      unseenCapReached: true,
    })
  })

  it('5,000 new IDs: the unseen cap is reported', () => {
    const feature = featureOf(ids(5000), ids(5000, 'new'))
    expect(feature.categoryCap?.unseenCapReached).toBe(true)
    expect(feature.categoryCap?.currentFoldedShare).toBe((5000 - defaultUnseenCap) / 5000)
  })
})
