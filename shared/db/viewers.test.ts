import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createRepositories } from './repositories/index.js'
import { newStatus, openTestDatabase, type TestDatabase } from './test-support.js'
import type { Repositories, ViewerRecord } from './types.js'

describe('viewers repository', () => {
  let db: TestDatabase
  let repos: Repositories
  let statusId: string
  beforeEach(async () => {
    db = await openTestDatabase()
    repos = createRepositories(db.client)
    statusId = (await repos.statuses.insert(newStatus())).id
  })
  afterEach(() => db.cleanup())

  const view = (jid: string, viewedAt = 1000, overrides: Partial<ViewerRecord> = {}): ViewerRecord => ({
    sessionId: 'main',
    statusId,
    jid,
    number: jid.endsWith('@lid') ? null : (jid.split('@')[0] ?? null),
    lid: jid.endsWith('@lid') ? jid : null,
    isReal: !jid.endsWith('@lid'),
    viewedAt,
    ...overrides,
  })

  it('stores 10,000 receipts from one call, then reports none of them as new again', async () => {
    const views = Array.from({ length: 10_000 }, (_, n) => view(`62800${n}@s.whatsapp.net`, 1000 + n))
    const fresh = await repos.viewers.recordMany(views)
    expect(fresh).toHaveLength(10_000)
    expect(await repos.viewers.count()).toBe(10_000)
    expect(await repos.viewers.recordMany(views)).toEqual([])
    expect(await repos.viewers.count()).toBe(10_000)
  })

  it('writes the whole array as one batch', async () => {
    const batch = vi.spyOn(db.client, 'batch')
    const execute = vi.spyOn(db.client, 'execute')
    await repos.viewers.recordMany(Array.from({ length: 500 }, (_, n) => view(`${n}@s.whatsapp.net`)))
    expect(batch).toHaveBeenCalledTimes(1)
    expect(batch.mock.calls[0]?.[1]).toBe('write')
    expect(execute).not.toHaveBeenCalled()
  })

  it('keeps the first view: a later receipt from the same viewer changes nothing', async () => {
    await repos.viewers.recordMany([view('a@s.whatsapp.net', 1000)])
    const again = await repos.viewers.recordMany([
      view('a@s.whatsapp.net', 500),
      view('b@s.whatsapp.net', 2000),
    ])
    expect(again.map((v) => v.jid)).toEqual(['b@s.whatsapp.net'])
    const stored = await repos.viewers.list('main', statusId)
    expect(stored.map((v) => [v.jid, v.viewedAt])).toEqual([
      ['a@s.whatsapp.net', 1000],
      ['b@s.whatsapp.net', 2000],
    ])
  })

  it('keeps the earliest view when one array holds the same viewer twice', async () => {
    const fresh = await repos.viewers.recordMany([
      view('a@s.whatsapp.net', 3000),
      view('a@s.whatsapp.net', 1000),
      view('a@s.whatsapp.net', 2000),
    ])
    expect(fresh.map((v) => v.viewedAt)).toEqual([1000])
    expect((await repos.viewers.list('main', statusId)).map((v) => v.viewedAt)).toEqual([1000])
  })

  it('stores LID-only viewers and every field as given', async () => {
    const lidView = view('12345678901234@lid', 1500)
    const pnView = view('628123456789@s.whatsapp.net', 1200, { lid: '999@lid' })
    await repos.viewers.recordMany([lidView, pnView])
    expect(await repos.viewers.list('main', statusId)).toEqual([pnView, lidView])
  })

  it('counts one viewer separately per status', async () => {
    const second = (await repos.statuses.insert(newStatus())).id
    const fresh = await repos.viewers.recordMany([
      view('a@s.whatsapp.net'),
      view('a@s.whatsapp.net', 1000, { statusId: second }),
    ])
    expect(fresh).toHaveLength(2)
    expect(await repos.viewers.list('main', second)).toHaveLength(1)
  })

  it('reports exactly the new rows, in the order given, across several statuses in one call', async () => {
    const second = (await repos.statuses.insert(newStatus())).id
    const gone = (await repos.statuses.insert(newStatus())).id
    await repos.statuses.delete('main', gone)
    await repos.viewers.recordMany([view('b@s.whatsapp.net', 1000, { statusId: second })])
    const fresh = await repos.viewers.recordMany([
      view('a@s.whatsapp.net', 1000),
      view('b@s.whatsapp.net', 2000, { statusId: second }),
      view('x@s.whatsapp.net', 1000, { statusId: gone }),
      view('c@s.whatsapp.net', 1000, { statusId: second }),
      view('d@s.whatsapp.net', 1000),
    ])
    expect(fresh.map((v) => [v.statusId, v.jid])).toEqual([
      [statusId, 'a@s.whatsapp.net'],
      [second, 'c@s.whatsapp.net'],
      [statusId, 'd@s.whatsapp.net'],
    ])
    expect(await repos.viewers.count()).toBe(4)
  })

  it('drops receipts for a status that no longer exists', async () => {
    await repos.statuses.delete('main', statusId)
    expect(await repos.viewers.recordMany([view('a@s.whatsapp.net')])).toEqual([])
    expect(await repos.viewers.count()).toBe(0)
  })

  it('does nothing for an empty array', async () => {
    expect(await repos.viewers.recordMany([])).toEqual([])
  })

  it('keeps every receipt when calls race', async () => {
    const calls = Array.from({ length: 20 }, (_, call) =>
      repos.viewers.recordMany(Array.from({ length: 50 }, (_, n) => view(`${call}-${n}@s.whatsapp.net`))),
    )
    const results = await Promise.all(calls)
    expect(results.flat()).toHaveLength(1000)
    expect(await repos.viewers.count()).toBe(1000)
  })
})
