import { describe, expect, it } from 'vitest'
import type { ViewerRecord } from '../shared/db/types.js'
import { toViewer, ViewerListCache } from './viewer-list-cache.js'

const record = (number: string, viewedAt: number): ViewerRecord => ({
  sessionId: 's',
  statusId: '1',
  jid: `${number}@s.whatsapp.net`,
  number,
  lid: null,
  isReal: true,
  viewedAt,
})

/** What `extend` takes: records as the announcer converted them. */
const viewer = (number: string, viewedAt: number) => toViewer(record(number, viewedAt))

const numbers = (list: { number: string | null }[] | null) => list?.map((viewer) => viewer.number)

describe('ViewerListCache', () => {
  it('knows nothing until filled, then merges new viewers in view order without duplicates', () => {
    const cache = new ViewerListCache()
    expect(cache.extend('k', [viewer('1', 10)])).toBeNull()
    cache.fill('k', [record('1', 10), record('3', 30)])
    // '3' was read back from the database already; '2' viewed in between.
    expect(numbers(cache.extend('k', [viewer('3', 30), viewer('2', 20), viewer('4', 40)]))).toEqual([
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

  it('appends in place yet hands out copies, and leaves the news in their order', () => {
    const cache = new ViewerListCache()
    const first = cache.fill('k', [record('1', 10)])
    const news = [viewer('3', 30), viewer('2', 20)]
    const second = cache.extend('k', news)
    expect(numbers(first)).toEqual(['1'])
    expect(numbers(news)).toEqual(['3', '2'])
    expect(numbers(second)).toEqual(['1', '2', '3'])
    second?.pop()
    expect(numbers(cache.extend('k', [viewer('4', 40)]))).toEqual(['1', '2', '3', '4'])
  })

  it('counts the viewers of lists the status cap pushed out, so the viewer cap stays exact', () => {
    const cache = new ViewerListCache(3, 2)
    cache.fill('a', [record('1', 1), record('2', 2)])
    cache.fill('b', [record('3', 3)])
    // 'a' leaves by the status cap: its two viewers no longer count, so 'b' and 'c' both fit.
    cache.fill('c', [record('4', 4), record('5', 5)])
    expect(cache.extend('a', [])).toBeNull()
    expect(numbers(cache.extend('b', []))).toEqual(['3'])
    expect(numbers(cache.extend('c', []))).toEqual(['4', '5'])
  })
})
