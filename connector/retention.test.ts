import pino from 'pino'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { InProcessBus } from '../shared/bus/in-process.js'
import { createRepositories } from '../shared/db/index.js'
import { newStatus, openTestDatabase, type TestDatabase } from '../shared/db/test-support.js'
import { Messages } from '../shared/errors.js'
import type { EventMessage } from '../shared/events.js'
import { LocalMediaStore } from '../shared/node/local-media-store.js'
import { MediaInUse, RetentionJob } from './retention.js'
import { createHarness, type Harness } from './test-harness.js'

const HOUR = 3_600_000
const NOW = 1_750_000_000_000

let db: TestDatabase | undefined
let h: Harness | undefined
afterEach(async () => {
  await db?.cleanup()
  await h?.cleanup()
  db = undefined
  h = undefined
})

const putFile = (media: LocalMediaStore, name: string) =>
  media.put(
    name,
    (async function* () {
      yield new Uint8Array([1, 2, 3])
    })(),
    { maxBytes: 10, contentType: 'image/jpeg' },
  )

/** A job over a fresh database, for the analytics history (`historyMs` as ANALYTICS_HISTORY_DAYS). */
const historyJob = async (now: () => number, historyMs?: number) => {
  db = await openTestDatabase()
  const repos = createRepositories(db.client)
  const media = new LocalMediaStore({ dir: `${db.dir}/media`, publicUrl: 'http://localhost', secret: 's' })
  const job = new RetentionJob({
    repos,
    media,
    events: new InProcessBus(),
    logger: pino({ level: 'silent' }),
    intervalMs: 60_000,
    now,
    orphanUploadAgeMs: HOUR,
    pendingGiveUpMs: 360_000,
    ...(historyMs === undefined ? {} : { historyMs }),
  })
  return { repos, job }
}

describe('status retention', () => {
  it('removes expired statuses, their unused media, and tells each affected session once', async () => {
    db = await openTestDatabase()
    const repos = createRepositories(db.client)
    const media = new LocalMediaStore({ dir: `${db.dir}/media`, publicUrl: 'http://localhost', secret: 's' })
    const bus = new InProcessBus()
    const events: EventMessage[] = []
    bus.subscribe((message) => events.push(message))
    const expired = NOW - HOUR
    const live = NOW + HOUR
    const unused = '1750000000000-aaaaaa.jpg'
    const shared = '1750000000000-bbbbbb.jpg'
    for (const name of [unused, shared]) {
      await putFile(media, name)
      await repos.uploads.insert({
        filename: name,
        kind: 'image',
        mime: 'image/jpeg',
        size: 3,
        createdAt: NOW,
      })
    }
    await repos.statuses.insert(newStatus({ sessionId: 'a', expiresAt: expired, mediaFilename: unused }))
    await repos.statuses.insert(newStatus({ sessionId: 'a', expiresAt: expired }))
    await repos.statuses.insert(newStatus({ sessionId: 'b', expiresAt: expired, mediaFilename: shared }))
    const kept = await repos.statuses.insert(
      newStatus({ sessionId: 'c', expiresAt: live, mediaFilename: shared }),
    )

    const deleted: string[] = []
    const job = new RetentionJob({
      repos,
      media,
      events: bus,
      logger: pino({ level: 'silent' }),
      intervalMs: 60_000,
      now: () => NOW,
      orphanUploadAgeMs: HOUR,
      pendingGiveUpMs: 360_000,
      onDeleted: (status) => deleted.push(status.sessionId),
    })
    await expect(job.runOnce()).resolves.toBe(3)

    expect(deleted.sort()).toEqual(['a', 'a', 'b'])
    expect(await repos.statuses.get('c', kept.id)).not.toBeNull()
    expect(await media.exists(unused)).toBe(false)
    expect(await repos.uploads.get(unused)).toBeNull()
    // Still used by a live status.
    expect(await media.exists(shared)).toBe(true)
    expect(await repos.uploads.get(shared)).not.toBeNull()
    expect(events).toEqual([
      {
        event: 'statuses-updated',
        payload: { sessionId: 'a', message: 'Statuses updated', action: 'cleanup' },
      },
      {
        event: 'statuses-updated',
        payload: { sessionId: 'b', message: 'Statuses updated', action: 'cleanup' },
      },
    ])

    // Nothing left to do: no events.
    await expect(job.runOnce()).resolves.toBe(0)
    expect(events).toHaveLength(2)
  })

  it('keeps what analytics need of expired sent statuses for the history window, then drops it', async () => {
    let now = NOW
    const { repos, job } = await historyJob(() => now, 48 * HOUR)
    const sent = await repos.statuses.insert(
      newStatus({
        sessionId: 'a',
        state: 'sent',
        createdAt: NOW - 25 * HOUR,
        expiresAt: NOW - HOUR,
        targetNumbers: '1,2',
      }),
    )
    // A send that failed never reached anyone: nothing to analyse.
    await repos.statuses.insert(
      newStatus({ sessionId: 'a', state: 'failed', createdAt: NOW - 25 * HOUR, expiresAt: NOW - HOUR }),
    )
    await repos.viewers.recordMany([
      {
        sessionId: 'a',
        statusId: sent.id,
        jid: '1@s.whatsapp.net',
        number: '1',
        lid: null,
        isReal: true,
        viewedAt: NOW - 24 * HOUR,
      },
    ])
    await expect(job.runOnce()).resolves.toBe(2)
    expect(await repos.statuses.get('a', sent.id)).toBeNull()
    expect(await repos.analytics.recentStatuses('a', 10)).toEqual([
      { id: sent.id, createdAt: NOW - 25 * HOUR, targetNumbers: '1,2' },
    ])
    expect(await repos.analytics.viewsOf('a', [sent.id])).toEqual([
      { statusId: sent.id, jid: '1@s.whatsapp.net', number: '1', viewedAt: NOW - 24 * HOUR },
    ])
    // Once the status is older than the history window, it goes for good.
    now = NOW + 24 * HOUR
    await job.runOnce()
    expect(await repos.analytics.recentStatuses('a', 10)).toEqual([])
    expect(await repos.analytics.viewsOf('a', [sent.id])).toEqual([])
  })

  it('keeps no history with historyMs 0', async () => {
    const { repos, job } = await historyJob(() => NOW)
    await repos.statuses.insert(newStatus({ sessionId: 'a', state: 'sent', expiresAt: NOW - HOUR }))
    await expect(job.runOnce()).resolves.toBe(1)
    expect(await repos.analytics.recentStatuses('a', 10)).toEqual([])
  })

  it('removes uploads no status uses once their link and grace are over, with their files', async () => {
    db = await openTestDatabase()
    const repos = createRepositories(db.client)
    const media = new LocalMediaStore({ dir: `${db.dir}/media`, publicUrl: 'http://localhost', secret: 's' })
    const bus = new InProcessBus()
    const events: EventMessage[] = []
    bus.subscribe((message) => events.push(message))
    const AGE = 15 * 60_000 + HOUR
    const old = NOW - AGE - 1
    const record = (filename: string, createdAt: number) =>
      repos.uploads.insert({ filename, kind: 'image', mime: 'image/jpeg', size: 3, createdAt })
    const stored = async (filename: string) => ({
      row: (await repos.uploads.get(filename)) !== null,
      file: await media.exists(filename),
    })

    const orphan = '1750000000000-orphan.jpg'
    const used = '1750000000000-usedup.jpg'
    const young = '1750000000000-youngx.jpg'
    const sending = '1750000000000-sendin.jpg'
    const neverPut = '1750000000000-neverp.jpg'
    for (const name of [orphan, used, young, sending]) await putFile(media, name)
    await record(orphan, old)
    await record(used, old)
    await record(young, NOW - AGE + 60_000)
    await record(sending, old)
    // A signed link that was never used: a record without a file.
    await record(neverPut, old)
    await repos.statuses.insert(newStatus({ sessionId: 'a', mediaFilename: used, expiresAt: NOW + HOUR }))
    // Enough records without files for several batches.
    const many = Array.from({ length: 230 }, (_, i) => `1750000000000-m${String(i).padStart(5, '0')}.jpg`)
    for (const name of many) await record(name, old)
    // A send of this process has read `sending` and has not stored its status yet.
    const inUse = new MediaInUse()
    const release = inUse.claim(sending)

    const job = new RetentionJob({
      repos,
      media,
      events: bus,
      logger: pino({ level: 'silent' }),
      intervalMs: 60_000,
      now: () => NOW,
      orphanUploadAgeMs: AGE,
      pendingGiveUpMs: 360_000,
      mediaInUse: inUse,
    })
    await expect(job.runOnce()).resolves.toBe(0)

    expect(await stored(orphan)).toEqual({ row: false, file: false })
    expect(await stored(neverPut)).toEqual({ row: false, file: false })
    expect(await stored(used)).toEqual({ row: true, file: true })
    expect(await stored(young)).toEqual({ row: true, file: true })
    expect(await stored(sending)).toEqual({ row: true, file: true })
    for (const name of many) expect(await repos.uploads.get(name)).toBeNull()
    // No status changed: nothing to tell clients.
    expect(events).toEqual([])

    // Once its status is stored (or the send gave up) the claim ends; unused, it goes next time.
    release()
    await job.runOnce()
    expect(await stored(sending)).toEqual({ row: false, file: false })
    expect(await stored(used)).toEqual({ row: true, file: true })
  })

  it('leaves alone the upload of a send in progress, which no status refers to yet', async () => {
    h = await createHarness({
      env: { UPLOAD_URL_TTL_SECONDS: '10', ORPHAN_UPLOAD_GRACE_SECONDS: '0', CLEANUP_INTERVAL_MS: '1000' },
    })
    const harness = h
    const old = Date.now() - 60_000
    const picture = '1750000000000-inflig.jpg'
    const witness = '1750000000000-witnes.jpg'
    for (const name of [picture, witness]) {
      await putFile(harness.media, name)
      await harness.repos.uploads.insert({
        filename: name,
        kind: 'image',
        mime: 'image/jpeg',
        size: 3,
        createdAt: old,
      })
    }
    const session = await harness.addSession()
    const { second: sock } = await harness.linkAndOpen(session.id)
    // The send has read the picture and now waits for the LID lookup, before storing its status.
    let answerLookup: () => void = () => {}
    harness.wa.lidMapping.lookupGate = new Promise((resolve) => {
      answerLookup = resolve
    })
    const reply = harness.bus.send(session.id, 'status.send', {
      sessionId: session.id,
      type: 'image',
      content: picture,
      targetNumbers: ['15550002222'],
    })
    await vi.waitFor(() => expect(harness.wa.lidMapping.lookups).toBe(1))
    // A retention pass went by meanwhile: it took the unused witness, not the picture being sent.
    await vi.waitFor(async () => expect(await harness.repos.uploads.get(witness)).toBeNull(), {
      timeout: 5_000,
    })
    expect(await harness.media.exists(picture)).toBe(true)
    expect(await harness.repos.uploads.get(picture)).not.toBeNull()

    answerLookup()
    await vi.waitFor(() => expect(sock.sent).toHaveLength(1))
    sock.ack(sock.sent[0]?.options?.messageId ?? '')
    await expect(reply).resolves.toMatchObject({ type: 'image' })
    const [status] = await harness.repos.statuses.listActive(session.id, Date.now())
    expect(status).toMatchObject({ state: 'sent', mediaFilename: picture })
    // Used by a status now, it survives the next passes too.
    await harness.repos.uploads.insert({
      filename: witness,
      kind: 'image',
      mime: 'image/jpeg',
      size: 3,
      createdAt: old,
    })
    await vi.waitFor(async () => expect(await harness.repos.uploads.get(witness)).toBeNull(), {
      timeout: 5_000,
    })
    expect(await harness.media.exists(picture)).toBe(true)
  })

  it('runs when the connector starts', async () => {
    h = await createHarness({
      before: async ({ repos }) => {
        await repos.statuses.insert(newStatus({ sessionId: 'old', expiresAt: Date.now() - HOUR }))
      },
    })
    await vi.waitFor(() =>
      expect(h?.eventsOf('statuses-updated')).toEqual([
        { sessionId: 'old', message: 'Statuses updated', action: 'cleanup' },
      ]),
    )
  })

  it('fails sends left pending by a process that went away, once past any late-ack wait', async () => {
    db = await openTestDatabase()
    const repos = createRepositories(db.client)
    const media = new LocalMediaStore({ dir: `${db.dir}/media`, publicUrl: 'http://localhost', secret: 's' })
    const giveUp = 6 * 60_000
    const abandoned = await repos.statuses.insert(
      newStatus({ sessionId: 's', state: 'pending', createdAt: NOW - giveUp - 1, expiresAt: NOW + HOUR }),
    )
    const waiting = await repos.statuses.insert(
      newStatus({ sessionId: 's', state: 'pending', createdAt: NOW - 1_000, expiresAt: NOW + HOUR }),
    )
    const sent = await repos.statuses.insert(
      newStatus({ sessionId: 's', state: 'sent', createdAt: NOW - giveUp - 1, expiresAt: NOW + HOUR }),
    )
    const job = new RetentionJob({
      repos,
      media,
      events: new InProcessBus(),
      logger: pino({ level: 'silent' }),
      intervalMs: 60_000,
      now: () => NOW,
      orphanUploadAgeMs: HOUR,
      pendingGiveUpMs: giveUp,
    })
    await job.runOnce()
    expect(await repos.statuses.get('s', abandoned.id)).toMatchObject({
      state: 'failed',
      error: Messages.sendAbandoned,
    })
    expect((await repos.statuses.get('s', waiting.id))?.state).toBe('pending')
    expect((await repos.statuses.get('s', sent.id))?.state).toBe('sent')
  })
})
