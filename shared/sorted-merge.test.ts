import { describe, expect, it } from 'vitest'
import { mergeSorted } from './sorted-merge.js'

describe('mergeSorted', () => {
  const byKey = (x: { k: number }, y: { k: number }) => x.k - y.k

  it('interleaves two sorted lists, keeping the first list first on ties', () => {
    const a = [
      { k: 1, from: 'a' },
      { k: 3, from: 'a' },
      { k: 5, from: 'a' },
    ]
    const b = [
      { k: 2, from: 'b' },
      { k: 3, from: 'b' },
      { k: 6, from: 'b' },
    ]
    expect(mergeSorted(a, b, byKey).map((x) => `${x.k}${x.from}`)).toEqual([
      '1a',
      '2b',
      '3a',
      '3b',
      '5a',
      '6b',
    ])
  })

  it('returns a new list and leaves both inputs alone', () => {
    const a = [{ k: 2 }]
    const b = [{ k: 1 }]
    const merged = mergeSorted(a, b, byKey)
    expect(merged).toEqual([{ k: 1 }, { k: 2 }])
    expect(a).toEqual([{ k: 2 }])
    expect(b).toEqual([{ k: 1 }])
    expect(mergeSorted([], b, byKey)).toEqual(b)
  })
})
