import { describe, expect, it } from 'vitest'
import type { ViewerRecord } from '../shared/db/types.js'
import { ViewerListCache } from './viewer-list-cache.js'

const record = (number: string, viewedAt: number): ViewerRecord => ({
  sessionId: 's',
  statusId: '1',
  jid: `${number}@s.whatsapp.net`,
  number,
  lid: null,
  isReal: true,
  viewedAt,
})

const numbers = (list: { number: string | null }[] | null) => list?.map((viewer) => viewer.number)

describe('ViewerListCache', () => {
  it('knows nothing until filled, then merges new viewers in view order without duplicates', () => {
    const cache = new ViewerListCache()
    expect(cache.extend('k', [record('1', 10)])).toBeNull()
    cache.fill('k', [record('1', 10), record('3', 30)])
    // '3' was read back from the database already; '2' viewed in between.
    expect(numbers(cache.extend('k', [record('3', 30), record('2', 20), record('4', 40)]))).toEqual([
      '1',
      '2',
      '3',
      '4',
    ])
  })

  it('drops the least recently used lists beyond its viewer cap, and forgets on request', () => {
    const cache = new ViewerListCache(3)
    cache.fill('old', [record('1', 1), record('2', 2)])
    cache.fill('new', [record('3', 3), record('4', 4)])
    expect(cache.extend('old', [])).toBeNull()
    expect(numbers(cache.extend('new', []))).toEqual(['3', '4'])
    cache.forget((key) => key === 'new')
    expect(cache.extend('new', [])).toBeNull()
  })
})
