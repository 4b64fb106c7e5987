/**
 * Viewer receipt ingestion: 100,000 receipts for a few statuses of one session, fed to the real
 * `ViewerIngest` (real repositories on a libSQL file, in-process bus) the way sockets feed it: small
 * batches, one per event-loop turn, so flushes run while receipts keep arriving. Measures from the
 * first receipt to the last row written and announced, then counts rows: none may be lost.
 */
import pino from 'pino'
import type { RawView } from '../../connector/receipts.js'
import { ViewerIngest } from '../../connector/viewer-ingest.js'
import { InProcessBus } from '../../shared/bus/in-process.js'
import { newStatus } from '../../shared/db/test-support.js'
import { newSession, openBenchDatabase } from './support/fixtures.js'
import { bySize, emit, log, round } from './support/report.js'

const BENCH = 'viewer ingest'
const RECEIPTS = bySize(100_000, 2_000)
const STATUSES = 4
/** Receipts per event, about what one Baileys `message-receipt.update` carries in a burst. */
const PER_EVENT = 50
/** Every tenth viewer is addressed by LID, its number learned from `participant_pn`. */
const LID_EVERY = 10
const SESSION = 'bench'

const db = await openBenchDatabase()
await db.repos.sessions.create(newSession(SESSION, '15550001111'))
const waMessageIds: string[] = []
for (let i = 0; i < STATUSES; i++) {
  const id = `3EB0BENCH${i}`
  await db.repos.statuses.insert(newStatus({ sessionId: SESSION, waMessageId: id, state: 'sent' }))
  waMessageIds.push(id)
}

const bus = new InProcessBus()
let announced = 0
let events = 0
bus.subscribe((message) => {
  if (message.event !== 'status-viewers-update') return
  events++
  announced += message.payload.newViewers.length
})
const ingest = new ViewerIngest({ repos: db.repos, events: bus, logger: pino({ level: 'silent' }) })

/** Receipt `i`: each status gets its own set of viewers, so every receipt is a distinct row. */
const receipt = (i: number, viewedAt: number): RawView => {
  const number = `1666${String(i).padStart(8, '0')}`
  const asLid = i % LID_EVERY === 0
  if (asLid) ingest.learnParticipantPn(SESSION, `${900_000_000 + i}@lid`, number)
  return {
    waMessageId: waMessageIds[i % STATUSES] as string,
    viewerJid: asLid ? `${900_000_000 + i}@lid` : `${number}@s.whatsapp.net`,
    viewedAt,
  }
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

const started = performance.now()
for (let i = 0; i < RECEIPTS; i += PER_EVENT) {
  const now = Date.now()
  const views: RawView[] = []
  for (let j = i; j < Math.min(i + PER_EVENT, RECEIPTS); j++) views.push(receipt(j, now))
  ingest.push(SESSION, views, null)
  await nextTurn()
}
const fedMs = performance.now() - started
await ingest.drain()
const elapsedMs = performance.now() - started
await ingest.stop()

const rows = await db.repos.viewers.count()
const perStatus = await Promise.all(
  (await db.repos.statuses.listActive(SESSION, Date.now())).map((s) => s.viewerCount),
)
await bus.close()
await db.cleanup()

const rate = RECEIPTS / (elapsedMs / 1000)
log(`fed ${RECEIPTS} receipts in ${fedMs.toFixed(0)} ms, all written in ${elapsedMs.toFixed(0)} ms`)
log(`rows ${rows}, per status ${perStatus.join('/')}, announced ${announced} in ${events} events`)
emit({
  bench: BENCH,
  metric: `receipts/s (${RECEIPTS.toLocaleString('en')}, ${STATUSES} statuses)`,
  value: Math.round(rate),
  unit: '/s',
  target: { kind: 'min', value: 30_000 },
  note: `${round(elapsedMs / 1000, 2)} s to last write; ${events} events`,
})
emit({
  bench: BENCH,
  metric: 'receipts lost (rows, announced)',
  value: Math.max(RECEIPTS - rows, RECEIPTS - announced),
  unit: 'rows',
  target: { kind: 'max', value: 0 },
  note: `${rows} rows stored, ${announced} announced`,
})
