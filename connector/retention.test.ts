import pino from 'pino'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { InProcessBus } from '../shared/bus/in-process.js'
import { createRepositories } from '../shared/db/index.js'
import { newStatus, openTestDatabase, type TestDatabase } from '../shared/db/test-support.js'
import type { EventMessage } from '../shared/events.js'
import { LocalMediaStore } from '../shared/storage/local.js'
import { RetentionJob } from './retention.js'
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
      bus,
      logger: pino({ level: 'silent' }),
      intervalMs: 60_000,
      now: () => NOW,
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
})
