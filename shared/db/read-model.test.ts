import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { openDatabase } from '../node/db-client.js'
import { SPLIT_MAX_AGE_MS, withReadModel } from './read-model.js'
import { createRepositories } from './repositories/index.js'
import { newStatus, openTestDatabase, type TestDatabase } from './test-support.js'
import type { Repositories, SessionRecord, ViewerRecord } from './types.js'

const session = (id: string, createdAt = 1_700_000_000_000) =>
  ({
    id,
    name: `Session ${id}`,
    authMethod: 'pairing',
    phoneNumber: '628123456789',
    state: 'created',
    ownNumber: null,
    ownJid: null,
    ownLid: null,
    pairingCode: null,
    qrCode: null,
    lastError: null,
    createdAt,
  }) satisfies Omit<SessionRecord, 'updatedAt' | 'connectorId'>

const viewer = (statusId: string, jid: string, viewedAt = 1_000): ViewerRecord => ({
  sessionId: 'main',
  statusId,
  jid,
  number: jid.split('@')[0] ?? null,
  lid: null,
  isReal: true,
  viewedAt,
})

/** Resolves when `release` is called: holds a repository call half-way. */
const gate = () => {
  let release = () => {}
  const opened = new Promise<void>((resolve) => {
    release = resolve
  })
  return { opened, release }
}

let db: TestDatabase
let stored: Repositories
beforeEach(async () => {
  db = await openTestDatabase()
  stored = createRepositories(db.client)
})
afterEach(() => db.cleanup())

describe('read model, exact (embedded: every write goes through it)', () => {
  let repos: Repositories
  beforeEach(() => {
    repos = withReadModel(stored, { consistency: 'exact' })
  })

  it('answers repeated session reads from memory, without a query', async () => {
    await repos.sessions.create(session('a'))
    const first = await repos.sessions.list()
    const execute = vi.spyOn(db.client, 'execute')
    const second = await repos.sessions.list()
    expect(second).toBe(first)
    expect(await repos.sessions.get('a')).toBe(first[0])
    // Unknown ids are known to be unknown: nobody else writes.
    expect(await repos.sessions.get('nobody')).toBeNull()
    expect(execute).not.toHaveBeenCalled()
    expect(Object.isFrozen(first)).toBe(true)
    expect(Object.isFrozen(first[0])).toBe(true)
  })

  it('shows every write at once: create, update (as the connector writes states), delete', async () => {
    expect(await repos.sessions.list()).toEqual([])
    await repos.sessions.create(session('a'))
    expect((await repos.sessions.list()).map((s) => s.id)).toEqual(['a'])
    await repos.sessions.update('a', { state: 'open', ownNumber: '628111' })
    expect(await repos.sessions.get('a')).toMatchObject({ state: 'open', ownNumber: '628111' })
    expect((await repos.sessions.list())[0]).toMatchObject({ state: 'open' })
    await repos.sessions.delete('a')
    expect(await repos.sessions.get('a')).toBeNull()
    expect(await repos.sessions.list()).toEqual([])
  })

  it('does not keep a list read while a write was under way', async () => {
    await repos.sessions.create(session('a'))
    const held = gate()
    const list = stored.sessions.list.bind(stored.sessions)
    // The model's own read is held after it read the old row, until the write is done.
    const slow = withReadModel(
      {
        ...stored,
        sessions: {
          ...stored.sessions,
          list: async () => {
            const rows = await list()
            await held.opened
            return rows
          },
        },
      },
      { consistency: 'exact' },
    )
    const reading = slow.sessions.list()
    await slow.sessions.update('a', { state: 'open' })
    held.release()
    // The read began before the write finished: it may answer the old row, but must not keep it.
    expect((await reading)[0]?.state).toBe('created')
    expect((await slow.sessions.get('a'))?.state).toBe('open')
  })

  it("serves a session's active statuses from memory and drops them on every write", async () => {
    const status = await repos.statuses.insert(newStatus({ createdAt: 1_000, expiresAt: 10_000 }))
    const first = await repos.statuses.listActive('main', 2_000)
    expect(first.map((s) => [s.id, s.viewerCount])).toEqual([[status.id, 0]])
    const execute = vi.spyOn(db.client, 'execute')
    expect(await repos.statuses.listActive('main', 3_000)).toBe(first)
    expect(execute).not.toHaveBeenCalled()

    // A receipt changes the count.
    await repos.viewers.recordMany([viewer(status.id, '628222@s.whatsapp.net')])
    expect((await repos.statuses.listActive('main', 3_000))[0]?.viewerCount).toBe(1)
    // An ack changes the state.
    await repos.statuses.update('main', status.id, { state: 'sent', waMessageId: 'W1' })
    expect((await repos.statuses.listActive('main', 3_000))[0]).toMatchObject({ state: 'sent' })
    // A send adds one, newest first.
    const newer = await repos.statuses.insert(newStatus({ createdAt: 2_500, expiresAt: 20_000 }))
    expect((await repos.statuses.listActive('main', 3_000)).map((s) => s.id)).toEqual([newer.id, status.id])
    // Time alone expires one, without a query.
    execute.mockClear()
    expect((await repos.statuses.listActive('main', 10_000)).map((s) => s.id)).toEqual([newer.id])
    expect(execute).not.toHaveBeenCalled()
    // Retention removes the rest.
    await repos.statuses.deleteExpired(30_000)
    expect(await repos.statuses.listActive('main', 3_000)).toEqual([])
  })

  it('does not keep a status list read while a receipt was being written', async () => {
    const status = await repos.statuses.insert(newStatus({ createdAt: 1_000, expiresAt: 10_000 }))
    const held = gate()
    const listActive = stored.statuses.listActive.bind(stored.statuses)
    const slow = withReadModel(
      {
        ...stored,
        statuses: {
          ...stored.statuses,
          listActive: async (sessionId, now) => {
            const rows = await listActive(sessionId, now)
            await held.opened
            return rows
          },
        },
      },
      { consistency: 'exact' },
    )
    const reading = slow.statuses.listActive('main', 2_000)
    await slow.viewers.recordMany([viewer(status.id, 'a@s.whatsapp.net')])
    held.release()
    expect((await reading)[0]?.viewerCount).toBe(0)
    expect((await slow.statuses.listActive('main', 2_000))[0]?.viewerCount).toBe(1)
  })

  it("serves a status's viewers from memory, says when the status is gone, and follows receipts", async () => {
    const status = await repos.statuses.insert(newStatus())
    expect(await repos.viewers.listForStatus('main', status.id)).toEqual([])
    expect(await repos.viewers.listForStatus('main', 'missing')).toBeNull()
    await repos.viewers.recordMany([viewer(status.id, 'b@s.whatsapp.net', 2_000)])
    await repos.viewers.recordMany([viewer(status.id, 'a@s.whatsapp.net', 1_000)])
    const listed = await repos.viewers.listForStatus('main', status.id)
    expect(listed?.map((v) => v.jid)).toEqual(['a@s.whatsapp.net', 'b@s.whatsapp.net'])
    const execute = vi.spyOn(db.client, 'execute')
    expect(await repos.viewers.listForStatus('main', status.id)).toBe(listed)
    expect(await repos.viewers.list('main', status.id)).toBe(listed)
    expect(execute).not.toHaveBeenCalled()
    await repos.statuses.delete('main', status.id)
    expect(await repos.viewers.listForStatus('main', status.id)).toBeNull()
  })

  it('adds the rows a viewer write inserted to the lists in memory, without reading them back', async () => {
    const status = await repos.statuses.insert(newStatus({ createdAt: 1_000, expiresAt: 10_000 }))
    const other = await repos.statuses.insert(newStatus({ createdAt: 1_500, expiresAt: 10_000 }))
    await repos.viewers.recordMany([
      viewer(status.id, 'b@s.whatsapp.net', 2_000),
      viewer(status.id, 'd@s.whatsapp.net', 4_000),
    ])
    const before = await repos.viewers.listForStatus('main', status.id)
    const otherList = await repos.viewers.listForStatus('main', other.id)
    await repos.statuses.listActive('main', 5_000)
    const execute = vi.spyOn(db.client, 'execute')

    // One later, one earlier than what is listed (merged into place), one already there (not new).
    const fresh = await repos.viewers.recordMany([
      viewer(status.id, 'e@s.whatsapp.net', 5_000),
      viewer(status.id, 'a@s.whatsapp.net', 1_000),
      viewer(status.id, 'b@s.whatsapp.net', 500),
    ])
    expect(fresh.map((v) => v.jid)).toEqual(['e@s.whatsapp.net', 'a@s.whatsapp.net'])
    const after = await repos.viewers.listForStatus('main', status.id)
    const active = await repos.statuses.listActive('main', 5_000)
    expect(execute).not.toHaveBeenCalled()

    expect(after).not.toBe(before)
    expect(before?.map((v) => v.jid)).toEqual(['b@s.whatsapp.net', 'd@s.whatsapp.net'])
    expect(Object.isFrozen(after)).toBe(true)
    expect(after?.every((v) => Object.isFrozen(v))).toBe(true)
    expect(await repos.viewers.listForStatus('main', other.id)).toBe(otherList)
    expect(active.map((s) => [s.id, s.viewerCount])).toEqual([
      [other.id, 0],
      [status.id, 4],
    ])
    // Exactly what the database answers.
    execute.mockRestore()
    expect(after).toEqual(await stored.viewers.listForStatus('main', status.id))
    expect(active).toEqual(await stored.statuses.listActive('main', 5_000))
  })

  it('does not add the rows of a write twice to lists read while it ran', async () => {
    const status = await repos.statuses.insert(newStatus({ createdAt: 1_000, expiresAt: 10_000 }))
    const held = gate()
    const record = stored.viewers.recordMany.bind(stored.viewers)
    // The rows are in the database before the write returns.
    const slow = withReadModel(
      {
        ...stored,
        viewers: {
          ...stored.viewers,
          recordMany: async (views) => {
            const fresh = await record(views)
            await held.opened
            return fresh
          },
        },
      },
      { consistency: 'exact' },
    )
    const writing = slow.viewers.recordMany([viewer(status.id, 'a@s.whatsapp.net')])
    await vi.waitFor(async () =>
      expect(await stored.viewers.listForStatus('main', status.id)).toHaveLength(1),
    )
    expect(await slow.viewers.listForStatus('main', status.id)).toHaveLength(1)
    expect((await slow.statuses.listActive('main', 2_000))[0]?.viewerCount).toBe(1)
    held.release()
    await writing
    expect((await slow.viewers.listForStatus('main', status.id))?.map((v) => v.jid)).toEqual([
      'a@s.whatsapp.net',
    ])
    expect((await slow.statuses.listActive('main', 2_000))[0]?.viewerCount).toBe(1)
  })

  it('drops the lists a failed viewer write may have changed', async () => {
    const status = await repos.statuses.insert(newStatus())
    await repos.viewers.recordMany([viewer(status.id, 'a@s.whatsapp.net')])
    const failing = withReadModel(
      {
        ...stored,
        viewers: {
          ...stored.viewers,
          recordMany: async (views) => {
            await stored.viewers.recordMany(views)
            throw new Error('disk full')
          },
        },
      },
      { consistency: 'exact' },
    )
    expect(await failing.viewers.listForStatus('main', status.id)).toHaveLength(1)
    await expect(failing.viewers.recordMany([viewer(status.id, 'b@s.whatsapp.net')])).rejects.toThrow(
      'disk full',
    )
    expect((await failing.viewers.listForStatus('main', status.id))?.map((v) => v.jid)).toEqual([
      'a@s.whatsapp.net',
      'b@s.whatsapp.net',
    ])
  })

  it('does not keep a viewer list read while a receipt was being written', async () => {
    const status = await repos.statuses.insert(newStatus())
    const held = gate()
    const listForStatus = stored.viewers.listForStatus.bind(stored.viewers)
    const slow = withReadModel(
      {
        ...stored,
        viewers: {
          ...stored.viewers,
          listForStatus: async (sessionId, statusId) => {
            const rows = await listForStatus(sessionId, statusId)
            await held.opened
            return rows
          },
        },
      },
      { consistency: 'exact' },
    )
    const reading = slow.viewers.listForStatus('main', status.id)
    await slow.viewers.recordMany([viewer(status.id, 'a@s.whatsapp.net')])
    held.release()
    expect(await reading).toEqual([])
    expect(await slow.viewers.listForStatus('main', status.id)).toHaveLength(1)
  })

  it('keeps a bounded number of viewer rows, dropping the least recently read lists', async () => {
    const bounded = withReadModel(stored, { consistency: 'exact', maxCachedViewers: 30 })
    const ids: string[] = []
    for (let i = 0; i < 3; i++) {
      const status = await bounded.statuses.insert(newStatus())
      ids.push(status.id)
      await bounded.viewers.recordMany(
        Array.from({ length: 20 }, (_, n) => viewer(status.id, `${i}-${n}@s.whatsapp.net`)),
      )
    }
    for (const id of ids) await bounded.viewers.listForStatus('main', id)
    const execute = vi.spyOn(db.client, 'execute')
    // Only the last list read fits in 30 rows: the others are read again.
    await bounded.viewers.listForStatus('main', ids[2] ?? '')
    expect(execute).not.toHaveBeenCalled()
    await bounded.viewers.listForStatus('main', ids[0] ?? '')
    expect(execute).toHaveBeenCalledTimes(1)
  })
})

describe(`read model, bounded (split: connectors write past it; sessions kept ${SPLIT_MAX_AGE_MS} ms)`, () => {
  let now: number
  let repos: Repositories
  /** Another process on the same database: a connector. */
  let connector: Repositories
  let connectorDb: Awaited<ReturnType<typeof openDatabase>>
  beforeEach(async () => {
    now = 1_000_000
    repos = withReadModel(stored, {
      consistency: 'bounded',
      maxAgeMs: SPLIT_MAX_AGE_MS,
      clock: () => now,
    })
    connectorDb = await openDatabase(db.url)
    connector = createRepositories(connectorDb)
  })
  afterEach(() => connectorDb.close())

  it("serves the session list at most maxAgeMs behind another process's writes", async () => {
    await repos.sessions.create(session('a'))
    expect((await repos.sessions.get('a'))?.state).toBe('created')
    await connector.sessions.update('a', { state: 'open' })
    // Within the window: the list read before the connector's write.
    now += SPLIT_MAX_AGE_MS - 1
    expect((await repos.sessions.get('a'))?.state).toBe('created')
    expect((await repos.sessions.list())[0]?.state).toBe('created')
    // Never older than that.
    now += 1
    expect((await repos.sessions.get('a'))?.state).toBe('open')
    expect((await repos.sessions.list())[0]?.state).toBe('open')
  })

  it('reads fresh where it matters: fresh gets, unknown ids, own writes, after invalidate()', async () => {
    await repos.sessions.create(session('a'))
    await repos.sessions.list()
    await connector.sessions.update('a', { state: 'open' })
    expect((await repos.sessions.get('a', { fresh: true }))?.state).toBe('open')
    // Created by another API instance: not in the list yet, but no false 404.
    await connector.sessions.create(session('b'))
    expect((await repos.sessions.get('b'))?.id).toBe('b')
    // After a command (a connector changed the row): the next read goes to the database.
    repos.sessions.invalidate?.()
    expect((await repos.sessions.get('a'))?.state).toBe('open')
    // Its own writes show at once.
    await repos.sessions.update('a', { state: 'closed' })
    expect((await repos.sessions.get('a'))?.state).toBe('closed')
  })

  it('never keeps a list under a version a concurrent write has passed', async () => {
    const status = await connector.statuses.insert(newStatus({ createdAt: now, expiresAt: now + 10_000 }))
    const listForStatus = stored.viewers.listForStatus.bind(stored.viewers)
    let writeDuringRead = true
    const racing = withReadModel(
      {
        ...stored,
        viewers: {
          ...stored.viewers,
          // A connector records a view after the rows were read, before the read is kept.
          listForStatus: async (sessionId, statusId) => {
            const rows = await listForStatus(sessionId, statusId)
            if (writeDuringRead)
              await connector.viewers.recordMany([viewer(status.id, 'late@s.whatsapp.net')])
            writeDuringRead = false
            return rows
          },
        },
      },
      { consistency: 'bounded', maxAgeMs: SPLIT_MAX_AGE_MS, clock: () => now },
    )
    expect(await racing.viewers.listForStatus('main', status.id)).toEqual([])
    // Once the version may be asked for again, the list it was kept under is stale.
    now += SPLIT_MAX_AGE_MS
    expect((await racing.viewers.listForStatus('main', status.id))?.map((v) => v.jid)).toEqual([
      'late@s.whatsapp.net',
    ])
  })

  it("follows another process's status and viewer writes within maxAgeMs, reading only a version while nothing changes", async () => {
    await repos.sessions.create(session('main'))
    const status = await connector.statuses.insert(newStatus({ createdAt: now, expiresAt: now + 10_000 }))
    const listed = await repos.statuses.listActive('main', now)
    expect(listed.map((s) => s.id)).toEqual([status.id])
    expect(await repos.viewers.listForStatus('main', status.id)).toEqual([])

    const execute = vi.spyOn(db.client, 'execute')
    // Within the window: from memory, synchronously too (what the fast reads answer from).
    expect(await repos.statuses.listActive('main', now)).toBe(listed)
    expect(repos.statuses.peekActive?.('main', now)).toBe(listed)
    expect(repos.viewers.peekForStatus?.('main', status.id)).toEqual([])
    expect(execute).not.toHaveBeenCalled()
    // Past it: one version read, and the same list while nothing changed.
    now += SPLIT_MAX_AGE_MS
    expect(repos.statuses.peekActive?.('main', now)).toBeUndefined()
    expect(await repos.statuses.listActive('main', now)).toBe(listed)
    expect(execute).toHaveBeenCalledTimes(1)
    expect(JSON.stringify(execute.mock.calls[0]?.[0])).toMatch(/status_versions/)

    // A connector's write shows once the window has passed, never later.
    await connector.viewers.recordMany([viewer(status.id, 'c@s.whatsapp.net')])
    now += SPLIT_MAX_AGE_MS - 1
    expect(await repos.viewers.listForStatus('main', status.id)).toEqual([])
    expect((await repos.statuses.listActive('main', now))[0]?.viewerCount).toBe(0)
    now += 1
    expect((await repos.viewers.listForStatus('main', status.id))?.map((v) => v.jid)).toEqual([
      'c@s.whatsapp.net',
    ])
    expect((await repos.statuses.listActive('main', now))[0]?.viewerCount).toBe(1)
    // After a command (what a connector changed is then read at once), and after this process's
    // own writes.
    await connector.statuses.update('main', status.id, { state: 'failed', error: 'x' })
    repos.statuses.invalidate?.()
    expect((await repos.statuses.listActive('main', now))[0]?.state).toBe('failed')
    await connector.viewers.recordMany([viewer(status.id, 'd@s.whatsapp.net')])
    await repos.statuses.update('main', status.id, { error: 'y' })
    expect((await repos.statuses.listActive('main', now))[0]).toMatchObject({ viewerCount: 2, error: 'y' })
    await connector.statuses.delete('main', status.id)
    now += SPLIT_MAX_AGE_MS
    expect(await repos.statuses.listActive('main', now)).toEqual([])
    expect(await repos.viewers.listForStatus('main', status.id)).toBeNull()
  })
})

describe('status change versions', () => {
  it('grow with every status write and viewer batch, from any writer', async () => {
    const version = () => stored.statuses.changeVersion('main')
    expect(await version()).toBe(0)
    const status = await stored.statuses.insert(newStatus())
    const afterInsert = await version()
    expect(afterInsert).toBeGreaterThan(0)
    await stored.statuses.update('main', status.id, { state: 'sent' })
    const afterUpdate = await version()
    expect(afterUpdate).toBeGreaterThan(afterInsert)
    await stored.viewers.recordMany([
      viewer(status.id, 'a@s.whatsapp.net'),
      viewer(status.id, 'b@s.whatsapp.net'),
    ])
    const afterViewers = await version()
    expect(afterViewers).toBe(afterUpdate + 1)
    // Raw SQL, as any other writer: the triggers see it.
    await db.client.execute({ sql: 'DELETE FROM statuses WHERE session_id = ?', args: ['main'] })
    expect(await version()).toBeGreaterThan(afterViewers)
    expect(await stored.statuses.changeVersion('other')).toBe(0)
  })
})
