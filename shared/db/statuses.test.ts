import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openDatabase } from '../node/db-client.js'
import { createRepositories } from './repositories/index.js'
import { newStatus, openTestDatabase, type TestDatabase } from './test-support.js'
import type { Repositories, ViewerRecord } from './types.js'

const viewer = (statusId: string, jid: string, sessionId = 'main'): ViewerRecord => ({
  sessionId,
  statusId,
  jid,
  number: jid.split('@')[0] ?? null,
  lid: null,
  isReal: true,
  viewedAt: 1000,
})

describe('statuses repository', () => {
  let db: TestDatabase
  let repos: Repositories
  beforeEach(async () => {
    db = await openTestDatabase()
    repos = createRepositories(db.client)
  })
  afterEach(() => db.cleanup())

  it('gives a new status a millisecond-timestamp id and stores every field', async () => {
    const before = Date.now()
    const status = await repos.statuses.insert(newStatus({ mediaFilename: 'a.jpg', font: null }))
    expect(status.id).toMatch(/^\d{13}$/)
    expect(Number(status.id)).toBeGreaterThanOrEqual(before)
    expect(await repos.statuses.get('main', status.id)).toEqual(status)
    expect(status).toMatchObject({ mediaFilename: 'a.jpg', font: null, backgroundColor: '#315575' })
  })

  it('keeps ids distinct when 200 inserts race', async () => {
    const inserted = await Promise.all(Array.from({ length: 200 }, () => repos.statuses.insert(newStatus())))
    expect(new Set(inserted.map((s) => s.id)).size).toBe(200)
  })

  it('keeps ids distinct when two processes insert into the same session', async () => {
    const otherClient = await openDatabase(db.url)
    try {
      const other = createRepositories(otherClient)
      const inserted = await Promise.all(
        Array.from({ length: 100 }, (_, n) => (n % 2 ? repos : other).statuses.insert(newStatus())),
      )
      expect(new Set(inserted.map((s) => s.id)).size).toBe(100)
      const stored = await db.client.execute('SELECT COUNT(*) AS c FROM statuses')
      expect(stored.rows[0]?.c).toBe(100)
    } finally {
      otherClient.close()
    }
  })

  it('finds a status by its WhatsApp message id within its session only', async () => {
    const status = await repos.statuses.insert(newStatus({ waMessageId: '3EB0ABC' }))
    expect(await repos.statuses.getByWaMessageId('main', '3EB0ABC')).toEqual(status)
    expect(await repos.statuses.getByWaMessageId('other', '3EB0ABC')).toBeNull()
  })

  it('lists unexpired statuses newest first with their viewer counts', async () => {
    const old = await repos.statuses.insert(newStatus({ createdAt: 1000, expiresAt: 5000 }))
    const recent = await repos.statuses.insert(newStatus({ createdAt: 2000, expiresAt: 9000 }))
    await repos.statuses.insert(newStatus({ createdAt: 500, expiresAt: 3000 }))
    await repos.statuses.insert(newStatus({ sessionId: 'other', createdAt: 2500, expiresAt: 9000 }))
    await repos.viewers.recordMany([viewer(old.id, 'a@s.whatsapp.net'), viewer(old.id, 'b@s.whatsapp.net')])
    const active = await repos.statuses.listActive('main', 3000)
    expect(active.map((s) => [s.id, s.viewerCount])).toEqual([
      [recent.id, 0],
      [old.id, 2],
    ])
  })

  it('updates a status and leaves other fields alone', async () => {
    const status = await repos.statuses.insert(newStatus())
    const updated = await repos.statuses.update('main', status.id, { state: 'sent', waMessageId: 'W1' })
    expect(updated).toEqual({ ...status, state: 'sent', waMessageId: 'W1' })
    expect(await repos.statuses.update('main', status.id, {})).toEqual(updated)
    expect(await repos.statuses.update('main', 'missing', { state: 'failed' })).toBeNull()
  })

  it('deletes a status together with its viewers', async () => {
    const status = await repos.statuses.insert(newStatus())
    const kept = await repos.statuses.insert(newStatus())
    await repos.viewers.recordMany([
      viewer(status.id, 'a@s.whatsapp.net'),
      viewer(kept.id, 'a@s.whatsapp.net'),
    ])
    expect(await repos.statuses.delete('main', status.id)).toEqual(status)
    expect(await repos.statuses.get('main', status.id)).toBeNull()
    expect(await repos.viewers.list('main', status.id)).toEqual([])
    expect(await repos.viewers.list('main', kept.id)).toHaveLength(1)
    expect(await repos.statuses.delete('main', status.id)).toBeNull()
  })

  it('deletes expired statuses and their viewers, returning them', async () => {
    const expired = await repos.statuses.insert(newStatus({ expiresAt: 1000 }))
    const edge = await repos.statuses.insert(newStatus({ sessionId: 'other', expiresAt: 2000 }))
    const alive = await repos.statuses.insert(newStatus({ expiresAt: 3000 }))
    await repos.viewers.recordMany([
      viewer(expired.id, 'a@s.whatsapp.net'),
      viewer(alive.id, 'a@s.whatsapp.net'),
    ])
    const removed = await repos.statuses.deleteExpired(2000)
    expect(removed.map((s) => s.id).sort()).toEqual([expired.id, edge.id].sort())
    expect(await repos.viewers.count()).toBe(1)
    expect(await repos.statuses.get('main', alive.id)).not.toBeNull()
  })

  it('deletes every status of one session with its viewers', async () => {
    const mine = await repos.statuses.insert(newStatus())
    const theirs = await repos.statuses.insert(newStatus({ sessionId: 'other' }))
    await repos.viewers.recordMany([
      viewer(mine.id, 'a@s.whatsapp.net'),
      viewer(theirs.id, 'a@s.whatsapp.net', 'other'),
    ])
    expect((await repos.statuses.deleteAllForSession('main')).map((s) => s.id)).toEqual([mine.id])
    expect(await repos.viewers.count()).toBe(1)
    expect(await repos.statuses.get('other', theirs.id)).not.toBeNull()
  })

  it('tells whether an upload is still used by a status', async () => {
    const status = await repos.statuses.insert(newStatus({ type: 'image', mediaFilename: 'photo.jpg' }))
    expect(await repos.statuses.isMediaReferenced('photo.jpg')).toBe(true)
    expect(await repos.statuses.isMediaReferenced('other.jpg')).toBe(false)
    await repos.statuses.delete('main', status.id)
    expect(await repos.statuses.isMediaReferenced('photo.jpg')).toBe(false)
  })

  it('reports totals, per-session counts and the last sent time', async () => {
    expect(await repos.statuses.stats()).toEqual({ total: 0, lastSentAt: null, perSession: {} })
    await repos.statuses.insert(newStatus({ state: 'sent', createdAt: 1000 }))
    await repos.statuses.insert(newStatus({ state: 'sent', createdAt: 2000, sessionId: 'other' }))
    await repos.statuses.insert(newStatus({ state: 'failed', createdAt: 3000 }))
    expect(await repos.statuses.stats()).toEqual({
      total: 3,
      lastSentAt: 2000,
      perSession: { main: 2, other: 1 },
    })
  })
})
