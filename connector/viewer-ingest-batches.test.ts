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
    new ViewerIngest({ repos, bus, logger: pino({ level: 'silent' }) }, options)
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

  it('gives up on a batch after its last attempt', async () => {
    const ingest = ingestWith({ maxAttempts: 2, flushDelayMs: 1 })
    vi.spyOn(repos.viewers, 'recordMany').mockRejectedValue(new Error('disk full'))
    ingest.push(SESSION, [view('15550002222@s.whatsapp.net', 1000)], null)
    await ingest.drain()
    expect(ingest.pending).toBe(0)
    expect(updates).toEqual([])
  })
})
