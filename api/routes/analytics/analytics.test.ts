import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ViewerRecord } from '../../../shared/db/types.js'
import { body, createTestContext, type TestContext } from '../../test-support.js'

const OWN = '628100000000'
const HOUR = 3_600_000
let t: TestContext
let now: number

beforeEach(async () => {
  // A clock on a bucket boundary, so bucket starts are easy to state.
  now = Math.floor(Date.now() / HOUR) * HOUR - HOUR
  t = await createTestContext({ clock: () => now })
  await t.seedSession('personal', { state: 'open', ownNumber: OWN })
})
afterEach(() => t.close())

const view = (
  statusId: string,
  number: string | null,
  atMs: number,
  lid: string | null = null,
): ViewerRecord => ({
  sessionId: 'personal',
  statusId,
  jid: number ? `${number}@s.whatsapp.net` : `${lid}@lid`,
  number,
  lid,
  isReal: number !== null,
  viewedAt: atMs,
})

describe('GET …/sent-statuses with limit and cursor', () => {
  it('pages newest first without repeating or skipping, and keeps the whole list without limit', async () => {
    const ids: string[] = []
    for (let i = 0; i < 5; i++) ids.push((await t.seedStatus('personal', { createdAt: now - i * 1000 })).id)
    const seen: string[] = []
    let cursor: string | null | undefined
    let pages = 0
    do {
      const res = await t.request(
        `/api/sessions/personal/sent-statuses?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      )
      expect(res.status).toBe(200)
      const json = await body(res)
      expect(json.data.length).toBeLessThanOrEqual(2)
      seen.push(...json.data.map((s: { id: string }) => s.id))
      cursor = json.nextCursor
      pages++
    } while (cursor)
    expect(pages).toBe(3)
    expect(seen).toEqual(ids)
    const whole = await body(await t.request('/api/sessions/personal/sent-statuses'))
    expect(whole.data.map((s: { id: string }) => s.id)).toEqual(ids)
    expect(whole).not.toHaveProperty('nextCursor')
  })

  it('refuses a bad limit or a cursor it did not give out', async () => {
    for (const query of ['limit=0', 'limit=1001', 'limit=ten']) {
      const res = await t.request(`/api/sessions/personal/sent-statuses?${query}`)
      expect(res.status, query).toBe(400)
      expect((await body(res)).error).toMatch(/^limit/)
    }
    for (const cursor of ['nonsense', btoa('{"a":1}'), btoa('[1.5,"x"]')]) {
      const res = await t.request(
        `/api/sessions/personal/sent-statuses?limit=1&cursor=${encodeURIComponent(cursor)}`,
      )
      expect(res.status, cursor).toBe(400)
      expect(await body(res)).toEqual({ success: false, error: 'cursor is not a cursor this list gave out' })
    }
  })
})

describe('GET …/status-viewers/{statusId}: pages and CSV', () => {
  it('pages first view first, ties in JID order', async () => {
    const status = await t.seedStatus('personal', { createdAt: now })
    await t.repos.viewers.recordMany([
      view(status.id, '628200000003', now + 3000),
      view(status.id, '628200000001', now + 1000),
      view(status.id, '628200000002', now + 1000),
      view(status.id, null, now + 2000, '99887766'),
    ])
    const first = await body(await t.request(`/api/sessions/personal/status-viewers/${status.id}?limit=3`))
    expect(first.data.map((v: { jid: string }) => v.jid)).toEqual([
      '628200000001@s.whatsapp.net',
      '628200000002@s.whatsapp.net',
      '99887766@lid',
    ])
    const second = await body(
      await t.request(
        `/api/sessions/personal/status-viewers/${status.id}?limit=3&cursor=${encodeURIComponent(first.nextCursor)}`,
      ),
    )
    expect(second).toMatchObject({ data: [{ jid: '628200000003@s.whatsapp.net' }], nextCursor: null })
  })

  it('answers every viewer as CSV for format=csv or Accept: text/csv, and 404 for an unknown status', async () => {
    const status = await t.seedStatus('personal', { createdAt: now })
    await t.repos.viewers.recordMany([
      view(status.id, '628200000001', now + 1000),
      view(status.id, null, now + 2000, '99887766'),
    ])
    const expected =
      'number,lid,jid,viewedAt\r\n' +
      `628200000001,,628200000001@s.whatsapp.net,${new Date(now + 1000).toISOString()}\r\n` +
      `,99887766,99887766@lid,${new Date(now + 2000).toISOString()}\r\n`
    const ways: { path: string; headers: Record<string, string> }[] = [
      { path: `/api/sessions/personal/status-viewers/${status.id}?format=csv`, headers: {} },
      { path: `/api/sessions/personal/status-viewers/${status.id}`, headers: { accept: 'text/csv' } },
    ]
    for (const init of ways) {
      const res = await t.request(init.path, { headers: init.headers })
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8')
      expect(res.headers.get('content-disposition')).toBe(
        `attachment; filename="viewers-personal-${status.id}.csv"`,
      )
      expect(await res.text()).toBe(expected)
    }
    const json = await t.request(`/api/sessions/personal/status-viewers/${status.id}`, {
      headers: { accept: 'application/json, text/csv' },
    })
    expect(json.headers.get('content-type')).toMatch(/^application\/json/)
    const missing = await t.request('/api/sessions/personal/status-viewers/404404?format=csv')
    expect(missing.status).toBe(404)
    expect(await body(missing)).toEqual({ success: false, error: 'Status not found' })
  })

  it('streams a large list in pieces', async () => {
    const status = await t.seedStatus('personal', { createdAt: now })
    const many = Array.from({ length: 1200 }, (_, i) =>
      view(status.id, `6282${String(i).padStart(8, '0')}`, now + i),
    )
    await t.repos.viewers.recordMany(many)
    const res = await t.request(`/api/sessions/personal/status-viewers/${status.id}?format=csv`)
    const reader = res.body!.getReader()
    let chunks = 0
    let text = ''
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      chunks++
      text += new TextDecoder().decode(value)
    }
    expect(chunks).toBeGreaterThan(2)
    expect(text.trimEnd().split('\r\n')).toHaveLength(1201)
  })
})

describe('GET …/analytics/statuses/{statusId}', () => {
  it('reports audience, reach, who has not viewed and views per bucket, own number excluded', async () => {
    const status = await t.seedStatus('personal', {
      createdAt: now + 2 * 60_000,
      targetNumbers: `628200000001,628200000002,628200000003,628200000004,${OWN}`,
      contactCount: 5,
    })
    await t.repos.viewers.recordMany([
      view(status.id, '628200000002', now + 3 * 60_000),
      view(status.id, '628200000004', now + 4 * 60_000),
      view(status.id, OWN, now + 4 * 60_000),
      view(status.id, null, now + 21 * 60_000, '99887766'),
    ])
    const res = await t.request(`/api/sessions/personal/analytics/statuses/${status.id}`)
    expect(res.status).toBe(200)
    const iso = (ms: number) => new Date(ms).toISOString()
    expect((await body(res)).data).toEqual({
      statusId: status.id,
      sentAt: iso(now + 2 * 60_000),
      expiresAt: iso(status.expiresAt),
      audienceSize: 4,
      viewerCount: 3,
      reachPercent: 75,
      notViewed: ['628200000001', '628200000003'],
      unresolvedViewers: 1,
      viewsOverTime: {
        bucket: '5m',
        points: [
          { start: iso(now), views: 2, total: 2 },
          { start: iso(now + 5 * 60_000), views: 0, total: 2 },
          { start: iso(now + 10 * 60_000), views: 0, total: 2 },
          { start: iso(now + 15 * 60_000), views: 0, total: 2 },
          { start: iso(now + 20 * 60_000), views: 1, total: 3 },
        ],
      },
    })
    const hourly = await body(
      await t.request(`/api/sessions/personal/analytics/statuses/${status.id}?bucket=1h`),
    )
    expect(hourly.data.viewsOverTime).toEqual({
      bucket: '1h',
      points: [{ start: iso(now), views: 3, total: 3 }],
    })
  })

  it('has no reach without an audience, and answers 400 and 404 like the other routes', async () => {
    const own = await t.seedStatus('personal', { createdAt: now, targetNumbers: '', contactCount: 1 })
    const data = (await body(await t.request(`/api/sessions/personal/analytics/statuses/${own.id}`))).data
    expect(data).toMatchObject({ audienceSize: 0, viewerCount: 0, reachPercent: null, notViewed: [] })
    expect(data.viewsOverTime.points).toEqual([{ start: new Date(now).toISOString(), views: 0, total: 0 }])
    const bad = await t.request(`/api/sessions/personal/analytics/statuses/${own.id}?bucket=1d`)
    expect(bad.status).toBe(400)
    expect(await body(bad)).toEqual({ success: false, error: 'bucket must be one of: 5m, 1h' })
    expect((await t.request('/api/sessions/personal/analytics/statuses/777')).status).toBe(404)
    expect((await t.request(`/api/sessions/nobody/analytics/statuses/${own.id}`)).status).toBe(404)
    expect(
      (await t.request(`/api/sessions/personal/analytics/statuses/${own.id}`, { apiKey: null })).status,
    ).toBe(401)
  })
})

describe('GET …/analytics/contacts', () => {
  /** Three statuses to A, B, C (oldest expired and in the history), A views all, B one, C none. */
  const seedHistory = async () => {
    const [a, b, c] = ['628200000001', '628200000002', '628200000003']
    const targets = `${a},${b},${c},${OWN}`
    const old = await t.seedStatus('personal', {
      createdAt: now - 30 * HOUR,
      expiresAt: now - 6 * HOUR,
      targetNumbers: targets,
    })
    const mid = await t.seedStatus('personal', { createdAt: now - 2 * HOUR, targetNumbers: targets })
    const recent = await t.seedStatus('personal', { createdAt: now - HOUR, targetNumbers: `${a},${b}` })
    await t.repos.viewers.recordMany([
      view(old.id, a, now - 29 * HOUR),
      view(mid.id, a, now - 2 * HOUR + 60_000),
      view(mid.id, b, now - 2 * HOUR + 120_000),
      view(recent.id, a, now - HOUR + 60_000),
      view(recent.id, OWN, now - HOUR + 60_000),
      view(recent.id, null, now - HOUR + 90_000, '99887766'),
    ])
    // The retention job's expiry: the oldest leaves the live tables for the history.
    expect(await t.repos.statuses.deleteExpired(now, { archive: true })).toHaveLength(1)
    expect(await t.repos.statuses.get('personal', old.id)).toBeNull()
    return { a, b, c }
  }

  it('ranks who always views and who never does, expired statuses included', async () => {
    const { a, b, c } = await seedHistory()
    const most = await body(await t.request('/api/sessions/personal/analytics/contacts'))
    expect(most).toMatchObject({ success: true, nextCursor: null })
    expect(most.data).toMatchObject({
      statuses: 3,
      unresolvedViews: 1,
      since: new Date(now - 30 * HOUR).toISOString(),
    })
    expect(most.data.contacts).toEqual([
      {
        number: a,
        received: 3,
        viewed: 3,
        viewRate: 100,
        firstViewAt: new Date(now - 29 * HOUR).toISOString(),
        lastViewAt: new Date(now - HOUR + 60_000).toISOString(),
      },
      expect.objectContaining({ number: b, received: 3, viewed: 1, viewRate: 33.3 }),
      { number: c, received: 2, viewed: 0, viewRate: 0, firstViewAt: null, lastViewAt: null },
    ])
    const least = await body(await t.request('/api/sessions/personal/analytics/contacts?sort=least-viewed'))
    expect(least.data.contacts.map((contact: { number: string }) => contact.number)).toEqual([c, b, a])
    // Only the last two statuses: C got one of them and viewed none.
    const lastTwo = await body(await t.request('/api/sessions/personal/analytics/contacts?last=2'))
    expect(lastTwo.data.statuses).toBe(2)
    expect(lastTwo.data.contacts).toContainEqual(
      expect.objectContaining({ number: c, received: 1, viewed: 0 }),
    )
  })

  it('pages the ranking and refuses what it cannot read', async () => {
    await seedHistory()
    const first = await body(await t.request('/api/sessions/personal/analytics/contacts?limit=2'))
    expect(first.data.contacts).toHaveLength(2)
    const rest = await body(
      await t.request(
        `/api/sessions/personal/analytics/contacts?limit=2&cursor=${encodeURIComponent(first.nextCursor)}`,
      ),
    )
    expect(rest).toMatchObject({
      nextCursor: null,
      data: { contacts: [expect.objectContaining({ viewed: 0 })] },
    })
    for (const [query, error] of [
      ['last=0', 'last must be between 1 and 200'],
      ['sort=random', 'sort must be one of: most-viewed, least-viewed'],
      ['limit=1&cursor=zzz', 'cursor is not a cursor this list gave out'],
    ]) {
      const res = await t.request(`/api/sessions/personal/analytics/contacts?${query}`)
      expect(res.status, query).toBe(400)
      expect(await body(res)).toEqual({ success: false, error })
    }
    expect((await t.request('/api/sessions/nobody/analytics/contacts')).status).toBe(404)
  })

  it('forgets the history of a deleted session', async () => {
    await seedHistory()
    expect((await t.request('/api/sessions/personal', { method: 'DELETE' })).status).toBe(200)
    const left = await t.client.execute(
      "SELECT (SELECT COUNT(*) FROM status_archive WHERE session_id = 'personal') + (SELECT COUNT(*) FROM viewer_archive WHERE session_id = 'personal') AS n",
    )
    expect(Number(left.rows[0]?.n)).toBe(0)
  })
})

describe('GET …/analytics/daily', () => {
  it('totals each UTC day, empty days included, views on the day they happened', async () => {
    const day = 86_400_000
    const today = Math.floor(now / day) * day
    const yesterday = await t.seedStatus('personal', {
      createdAt: today - day + HOUR,
      expiresAt: today - day + 2 * HOUR,
      targetNumbers: `628200000001,628200000002,${OWN}`,
    })
    const current = await t.seedStatus('personal', {
      createdAt: today + 60_000,
      targetNumbers: '628200000001',
    })
    await t.repos.viewers.recordMany([
      view(yesterday.id, '628200000001', today - day + 2 * HOUR - 1),
      view(yesterday.id, '628200000002', today + 5_000),
      view(current.id, '628200000001', today + 120_000),
      view(current.id, OWN, today + 120_000),
    ])
    await t.repos.statuses.deleteExpired(now, { archive: true })
    const res = await t.request('/api/sessions/personal/analytics/daily?days=3')
    expect(res.status).toBe(200)
    const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10)
    expect((await body(res)).data.days).toEqual([
      { day: dayOf(today - 2 * day), statusesSent: 0, audience: 0, views: 0, uniqueViewers: 0 },
      { day: dayOf(today - day), statusesSent: 1, audience: 2, views: 1, uniqueViewers: 1 },
      { day: dayOf(today), statusesSent: 1, audience: 1, views: 2, uniqueViewers: 2 },
    ])
    const bad = await t.request('/api/sessions/personal/analytics/daily?days=400')
    expect(await body(bad)).toEqual({ success: false, error: 'days must be between 1 and 366' })
  })
})
