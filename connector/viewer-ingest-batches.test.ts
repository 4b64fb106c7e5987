import pino from 'pino'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { InProcessBus } from '../shared/bus/in-process.js'
import { createRepositories } from '../shared/db/repositories/index.js'
import { newStatus, openTestDatabase, type TestDatabase } from '../shared/db/test-support.js'
import type { Repositories } from '../shared/db/types.js'
import type { ServerEvents } from '../shared/events.js'
import type { RawView } from './receipts.js'
import { ViewerIngest } from './viewer-ingest.js'

/** `ViewerIngest` on its own, fed the way sockets feed it, on a real libSQL file. */
describe('ViewerIngest batches', () => {
  const SESSION = 'main'
  const WA_ID = '3EB0STATUS'
  let db: TestDatabase
  let repos: Repositories
  let bus: InProcessBus
  let updates: ServerEvents['status-viewers-update'][]
  let statusId: string

  beforeEach(async () => {
    db = await openTestDatabase()
    repos = createRepositories(db.client)
    statusId = (await repos.statuses.insert(newStatus({ waMessageId: WA_ID, state: 'sent' }))).id
    bus = new InProcessBus()
    updates = []
    bus.subscribe((message) => {
      if (message.event === 'status-viewers-update') updates.push(message.payload)
    })
  })
  afterEach(() => db.cleanup())

  const ingestWith = (options: ConstructorParameters<typeof ViewerIngest>[1] = {}) =>
    new ViewerIngest({ repos, events: bus, logger: pino({ level: 'silent' }) }, options)
  const view = (viewerJid: string, viewedAt: number): RawView => ({ waMessageId: WA_ID, viewerJid, viewedAt })
  const stored = async () =>
    (await repos.viewers.list(SESSION, statusId)).map((v) => ({
      jid: v.jid,
      number: v.number,
      lid: v.lid,
      isReal: v.isReal,
      viewedAt: v.viewedAt,
    }))

  it('keeps the earliest view of a viewer across socket events of one flush, whether seen by LID or number', async () => {
    const ingest = ingestWith()
    ingest.learnParticipantPn(SESSION, '222@lid', '15550002222')
    ingest.push(
      SESSION,
      [view('15550002222@s.whatsapp.net', 3000), view('15550003333@s.whatsapp.net', 5000)],
      null,
    )
    ingest.push(SESSION, [view('222@lid', 2000), view('15550003333@s.whatsapp.net', 4000)], null)
    expect(ingest.pending).toBe(4)
    await ingest.drain()

    expect(ingest.pending).toBe(0)
    expect(await stored()).toEqual([
      {
        jid: '15550002222@s.whatsapp.net',
        number: '15550002222',
        lid: '222@lid',
        isReal: true,
        viewedAt: 2000,
      },
      { jid: '15550003333@s.whatsapp.net', number: '15550003333', lid: null, isReal: true, viewedAt: 4000 },
    ])
    expect(updates).toHaveLength(1)
    expect(updates[0]?.newViewers.map((v) => v.viewedAt)).toEqual([
      new Date(2000).toISOString(),
      new Date(4000).toISOString(),
    ])
  })

  it('reads JIDs that are not in the usual form the general way', async () => {
    const ingest = ingestWith()
    ingest.push(
      SESSION,
      [
        view('15550002222:3@s.whatsapp.net', 1000),
        view('777@hosted.lid', 1000),
        view('@s.whatsapp.net', 1000),
      ],
      null,
    )
    await ingest.drain()
    expect(await stored()).toEqual([
      { jid: '15550002222@s.whatsapp.net', number: '15550002222', lid: null, isReal: true, viewedAt: 1000 },
      { jid: '777@hosted.lid', number: null, lid: '777@hosted.lid', isReal: false, viewedAt: 1000 },
    ])
  })

  it('hands out each full list as it was: a later event does not change an earlier one', async () => {
    const ingest = ingestWith()
    ingest.push(SESSION, [view('15550002222@s.whatsapp.net', 1000)], null)
    await ingest.drain()
    ingest.push(
      SESSION,
      [view('15550003333@s.whatsapp.net', 3000), view('15550004444@s.whatsapp.net', 2000)],
      null,
    )
    await ingest.drain()

    expect(updates.map((update) => update.viewers.map((v) => v.number))).toEqual([
      ['15550002222'],
      ['15550002222', '15550004444', '15550003333'],
    ])
    // The news keep their receipt order; only the full list is sorted.
    expect(updates[1]?.newViewers.map((v) => v.number)).toEqual(['15550003333', '15550004444'])
  })

  it('writes a refused batch again on the next flush and loses none of it', async () => {
    const ingest = ingestWith({ maxAttempts: 2, flushDelayMs: 1 })
    const recordMany = vi.spyOn(repos.viewers, 'recordMany').mockRejectedValueOnce(new Error('busy'))
    ingest.push(SESSION, [view('15550002222@s.whatsapp.net', 1000)], null)
    ingest.push(SESSION, [view('15550003333@s.whatsapp.net', 1000)], null)
    await vi.waitFor(() => expect(recordMany).toHaveBeenCalledTimes(2))
    await ingest.drain()
    expect((await stored()).map((v) => v.number)).toEqual(['15550002222', '15550003333'])
    expect(updates.flatMap((update) => update.newViewers)).toHaveLength(2)
  })

  it('flushes once the receipts pause, and every maxFlushDelayMs while they keep coming', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    try {
      const ingest = ingestWith({ flushDelayMs: 20, maxFlushDelayMs: 200 })
      const flushedAt: number[] = []
      const flush = ingest.flush.bind(ingest)
      const started = Date.now()
      vi.spyOn(ingest, 'flush').mockImplementation(() => {
        flushedAt.push(Date.now() - started)
        return flush()
      })
      // One view alone waits the quiet time, no more.
      ingest.push(SESSION, [view('15550001000@s.whatsapp.net', 1000)], null)
      await vi.advanceTimersByTimeAsync(19)
      expect(flushedAt).toEqual([])
      await vi.advanceTimersByTimeAsync(1)
      expect(flushedAt).toEqual([20])

      // A steady stream, one socket event every 10 ms for 300 ms: never quiet for 20 ms.
      flushedAt.length = 0
      const streamStarted = Date.now() - started
      for (let i = 1; i <= 30; i++) {
        ingest.push(SESSION, [view(`1555000${1000 + i}@s.whatsapp.net`, 1000 + i)], null)
        await vi.advanceTimersByTimeAsync(10)
      }
      await vi.advanceTimersByTimeAsync(20)
      // Written 200 ms after the first view of the stream, then 20 ms after its last one.
      expect(flushedAt.map((at) => at - streamStarted)).toEqual([200, 310])
      await ingest.drain()
      expect(await stored()).toHaveLength(31)
      expect(updates.map((update) => update.newViewers.length)).toEqual([1, 20, 10])
    } finally {
      vi.useRealTimers()
    }
  })

  const crowd = (count: number, viewedAt = 1000) =>
    Array.from({ length: count }, (_, i) =>
      view(`1666${String(i).padStart(7, '0')}@s.whatsapp.net`, viewedAt),
    )

  it('writes a large batch in slices and lets the event loop run between them', async () => {
    const ingest = ingestWith({ sliceSize: 1_000 })
    const write = repos.viewers.recordMany.bind(repos.viewers)
    // Whether a macrotask queued after one write ran before the next: a flush in one piece (only
    // microtasks between its writes) would let none through.
    const yieldedBefore: boolean[] = []
    let turned = true
    const recordMany = vi.spyOn(repos.viewers, 'recordMany').mockImplementation(async (rows) => {
      yieldedBefore.push(turned)
      turned = false
      setImmediate(() => {
        turned = true
      })
      return write(rows)
    })
    ingest.push(SESSION, crowd(2_500), null)
    await ingest.drain()

    expect(recordMany.mock.calls.map(([rows]) => rows.length)).toEqual([1_000, 1_000, 500])
    expect(yieldedBefore).toEqual([true, true, true])
    expect(await stored()).toHaveLength(2_500)
    // Still one flush: one event, carrying the whole list.
    expect(updates).toHaveLength(1)
    expect(updates[0]?.newViewers).toHaveLength(2_500)
    expect(updates[0]?.viewers).toHaveLength(2_500)
  })

  it('keeps the earliest view of a viewer whose views fall into different slices', async () => {
    const ingest = ingestWith({ sliceSize: 2 })
    ingest.push(
      SESSION,
      [
        view('15550002222@s.whatsapp.net', 5000),
        view('15550003333@s.whatsapp.net', 5000),
        view('15550004444@s.whatsapp.net', 5000),
        view('15550002222@s.whatsapp.net', 1000),
      ],
      null,
    )
    await ingest.drain()
    expect((await stored()).map((v) => [v.number, v.viewedAt])).toEqual([
      ['15550002222', 1000],
      ['15550003333', 5000],
      ['15550004444', 5000],
    ])
    expect(updates.flatMap((update) => update.newViewers)).toHaveLength(3)
  })

  it('announces the slices written before one failed, and the rest after the retry, each viewer once', async () => {
    const ingest = ingestWith({ sliceSize: 2, flushDelayMs: 1 })
    const write = repos.viewers.recordMany.bind(repos.viewers)
    let calls = 0
    vi.spyOn(repos.viewers, 'recordMany').mockImplementation(async (rows) => {
      if (++calls === 2) throw new Error('busy')
      return write(rows)
    })
    ingest.push(SESSION, crowd(5), null)
    await vi.waitFor(async () => expect(await stored()).toHaveLength(5))
    await ingest.drain()
    const announced = updates.flatMap((update) => update.newViewers.map((v) => v.number))
    expect(announced.sort()).toEqual(
      crowd(5)
        .map((v) => v.viewerJid.split('@')[0])
        .sort(),
    )
    expect(updates.at(-1)?.viewers).toHaveLength(5)
  })

  it('reads a long viewer list back in pages when it is not cached', async () => {
    // Another process (or a restart) wrote these: the announcer has no list for the status yet.
    const earlier = crowd(1_200).map((v, i) => ({
      sessionId: SESSION,
      statusId,
      jid: v.viewerJid,
      number: v.viewerJid.split('@')[0] ?? null,
      lid: null,
      isReal: true,
      viewedAt: 1000 + i,
    }))
    await repos.viewers.recordMany(earlier)
    const listPage = vi.spyOn(repos.viewers, 'listPage')
    const list = vi.spyOn(repos.viewers, 'list')
    const ingest = ingestWith()
    ingest.push(SESSION, [view('15550009999@s.whatsapp.net', 9000)], null)
    await ingest.drain()

    expect(list).not.toHaveBeenCalled()
    expect(listPage.mock.calls.length).toBeGreaterThanOrEqual(3)
    expect(updates[0]?.newViewers.map((v) => v.number)).toEqual(['15550009999'])
    // The full list in stored order: first view first.
    expect(updates[0]?.viewers.map((v) => v.jid)).toEqual(
      (await repos.viewers.list(SESSION, statusId)).map((v) => v.jid),
    )
    expect(updates[0]?.viewers).toHaveLength(1_201)
  })

  it('gives up on a batch after its last attempt', async () => {
    const ingest = ingestWith({ maxAttempts: 2, flushDelayMs: 1 })
    vi.spyOn(repos.viewers, 'recordMany').mockRejectedValue(new Error('disk full'))
    ingest.push(SESSION, [view('15550002222@s.whatsapp.net', 1000)], null)
    await ingest.drain()
    expect(ingest.pending).toBe(0)
    expect(updates).toEqual([])
  })
})
