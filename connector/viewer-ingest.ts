import type { Logger } from 'pino'
import type { EventPublisher } from '../shared/bus/types.js'
import type { Repositories, ViewerRecord } from '../shared/db/types.js'
import type { ProductMetrics } from '../shared/metrics.js'
import { isLidJid, jidUser, phoneJid } from './jid.js'
import { type LidLookup, LidResolver } from './lid-resolution.js'
import { LruMap } from './lru.js'
import type { RawView } from './receipts.js'
import { ViewerAnnouncer } from './viewer-announcer.js'

export interface ViewerIngestOptions {
  /** Flush at once when this many views are queued. */
  maxBatch: number
  /** Otherwise flush once no view has been queued for this long. */
  flushDelayMs: number
  /**
   * While views keep coming, flush this long after the first queued one (at least `flushDelayMs`).
   * Every flush is a write transaction, whose commit waits for the disk (a few ms, on the event
   * loop with the local driver, whatever the number of rows): a burst is written in a few large
   * transactions instead of one every `flushDelayMs`, and its last views still wait only
   * `flushDelayMs`.
   */
  maxFlushDelayMs: number
  /** How many tries a batch gets when the database refuses it. */
  maxAttempts: number
  /**
   * The most views turned into rows, or rows written, in one go. A larger batch is split into
   * slices with a macrotask between them: the local libSQL driver runs statements on the event
   * loop, so one write of a whole batch holds it for as long as the batch takes (≈ 7 ms per
   * thousand rows here) and every request waits meanwhile.
   */
  sliceSize: number
}

export const DEFAULT_INGEST_OPTIONS: ViewerIngestOptions = {
  maxBatch: 5_000,
  flushDelayMs: 20,
  maxFlushDelayMs: 200,
  maxAttempts: 3,
  sliceSize: 500,
}

/** Lets timers and I/O (HTTP requests, socket frames) run before the next slice. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * The views of one `push`, queued as they came: one entry per socket event, not per receipt, so a
 * burst does not copy every view into a queue object of its own.
 */
interface QueuedViews {
  sessionId: string
  views: readonly RawView[]
  lookup: LidLookup | null
  /** Shared by the whole entry: its views are always flushed, and retried, together. */
  attempts: number
}

/**
 * Turns status receipts into viewer rows and `status-viewers-update` events, for every session of
 * the connector at once. Receipts come in bursts (a status seen by thousands within seconds), so
 * views are queued and flushed together: one shared timer, one `recordMany` per slice of a flush
 * whatever the number of sessions, and at most one event per status per flush (see
 * `ViewerAnnouncer`). No receipt costs a database round trip of its own, and no flush holds the
 * event loop for more than one slice at a time.
 */
export class ViewerIngest {
  private queue: QueuedViews[] = []
  /** Views in `queue`. */
  private queued = 0
  private timer: NodeJS.Timeout | null = null
  /** When the oldest and the newest views in `queue` were queued (epoch ms). */
  private firstQueuedAt = 0
  private lastQueuedAt = 0
  private flushing: Promise<void> | null = null
  /** `${sessionId}\0${waMessageId}` → status id, or null for messages that are not our statuses. */
  private readonly statusIds = new LruMap<string, string | null>(20_000)
  readonly lids: LidResolver
  private readonly announcer: ViewerAnnouncer
  private readonly options: ViewerIngestOptions

  constructor(
    private readonly deps: {
      repos: Repositories
      events: EventPublisher
      logger: Logger
      metrics?: ProductMetrics | undefined
    },
    options: Partial<ViewerIngestOptions> = {},
  ) {
    this.options = { ...DEFAULT_INGEST_OPTIONS, ...options }
    this.lids = new LidResolver(deps.repos.lidMap)
    this.announcer = new ViewerAnnouncer({
      viewers: deps.repos.viewers,
      events: deps.events,
      logger: deps.logger,
    })
  }

  get pending(): number {
    return this.queued
  }

  /** Queues views for the next flush. The array is kept as it is: the caller hands it over. */
  push(sessionId: string, views: readonly RawView[], lookup: LidLookup | null): void {
    if (views.length) {
      this.noteQueued()
      this.queue.push({ sessionId, views, lookup, attempts: 0 })
      this.queued += views.length
    }
    this.schedule()
  }

  learnParticipantPn(sessionId: string, lid: string, pnDigits: string): void {
    this.lids.learn(sessionId, lid, pnDigits)
  }

  /** Runs flushes until nothing is queued, and waits for their events. */
  async drain(): Promise<void> {
    this.clearTimer()
    while (this.flushing || this.queue.length) {
      if (this.flushing) await this.flushing
      else await this.flush()
    }
    await this.announcer.idle()
  }

  async stop(): Promise<void> {
    await this.drain()
    await this.lids
      .saveLearned()
      .catch((error) => this.deps.logger.error({ err: error }, 'saving LID pairs failed'))
    this.clearTimer()
  }

  forgetStatus(sessionId: string, statusId: string): void {
    this.announcer.forget(sessionId, statusId)
    const prefix = `${sessionId}\u0000`
    this.statusIds.deleteWhere((key) => key.startsWith(prefix) && this.statusIds.peek(key) === statusId)
  }

  forgetSession(sessionId: string): void {
    this.announcer.forget(sessionId)
    const prefix = `${sessionId}\u0000`
    this.statusIds.deleteWhere((key) => key.startsWith(prefix))
    this.lids.forgetSession(sessionId)
  }

  /** Flushes what is queued now (one batch). Concurrent calls share the flush in progress. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing
    this.clearTimer()
    if (!this.queue.length) return Promise.resolve()
    const batch = this.queue
    this.queue = []
    this.queued = 0
    this.flushing = this.write(batch)
      .catch((error) => this.retry(batch, error))
      .finally(() => {
        this.flushing = null
        this.schedule()
      })
    return this.flushing
  }

  private schedule(): void {
    if (this.flushing || !this.queue.length) return
    if (this.queued >= this.options.maxBatch) {
      this.clearTimer()
      void this.flush()
    } else if (!this.timer) {
      this.arm(this.options.flushDelayMs)
    }
  }

  private noteQueued(): void {
    const now = Date.now()
    if (!this.queue.length) this.firstQueuedAt = now
    this.lastQueuedAt = now
  }

  /**
   * One timer for the quiet time and the longest wait: when it fires early for either (views came
   * meanwhile), it waits for whichever comes first. No timer is reset per socket event.
   */
  private arm(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.timer = null
      if (this.flushing || !this.queue.length) return
      const now = Date.now()
      const { flushDelayMs, maxFlushDelayMs } = this.options
      const quiet = flushDelayMs - (now - this.lastQueuedAt)
      const longest = Math.max(flushDelayMs, maxFlushDelayMs) - (now - this.firstQueuedAt)
      if (quiet <= 0 || longest <= 0) void this.flush()
      else this.arm(Math.min(quiet, longest))
    }, delayMs)
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
  }

  private retry(batch: QueuedViews[], error: unknown): void {
    const again = batch.filter((entry) => ++entry.attempts < this.options.maxAttempts)
    const retrying = countViews(again)
    this.deps.logger.error(
      { err: error, views: countViews(batch), retrying },
      'recording status viewers failed',
    )
    if (retrying) this.noteQueued()
    this.queue = again.concat(this.queue)
    this.queued += retrying
  }

  private async write(batch: QueuedViews[]): Promise<void> {
    const bySession = new Map<string, QueuedViews[]>()
    for (const entry of batch) {
      const list = bySession.get(entry.sessionId)
      if (list) list.push(entry)
      else bySession.set(entry.sessionId, [entry])
    }
    const perSession = await Promise.all(
      [...bySession].map(([sessionId, entries]) => this.toRecords(sessionId, entries)),
    )
    // A failed LID write must not hold the viewers up: the pairs stay queued for the next flush.
    await this.lids
      .saveLearned()
      .catch((error) => this.deps.logger.warn({ err: error }, 'saving LID pairs failed'))
    const records = perSession.length === 1 ? (perSession[0] as ViewerRecord[]) : perSession.flat()
    if (!records.length) return
    const { sliceSize } = this.options
    const added: ViewerRecord[] = []
    try {
      for (let start = 0; start < records.length; start += sliceSize) {
        if (start) await nextTurn()
        const slice = records.length <= sliceSize ? records : records.slice(start, start + sliceSize)
        const fresh = await this.deps.repos.viewers.recordMany(slice)
        for (const record of fresh) added.push(record)
      }
    } finally {
      // Slices already written stay written when a later one fails; a retry of the batch finds
      // their rows stored (not new), so they are announced now or never.
      if (added.length) {
        this.deps.metrics?.receiptsIngested.inc({}, added.length)
        this.announcer.add(added)
      }
    }
  }

  /**
   * Maps views to rows for one session, in receipt order: only our statuses, viewers resolved,
   * one row per viewer of a status (the earliest view), so the slices of a batch never hold the
   * same viewer twice and the first view still wins across them.
   */
  private async toRecords(sessionId: string, entries: QueuedViews[]): Promise<ViewerRecord[]> {
    const waMessageIds = new Set<string>()
    for (const { views } of entries) for (const view of views) waMessageIds.add(view.waMessageId)
    const statusIds = await this.statusIdsFor(sessionId, waMessageIds)
    if (!statusIds.size) return []

    const lids = new Set<string>()
    let lookup: LidLookup | null = null
    for (const entry of entries) {
      let ours = false
      for (const view of entry.views) {
        if (!statusIds.has(view.waMessageId)) continue
        ours = true
        if (isLidViewer(view.viewerJid)) lids.add(view.viewerJid)
      }
      // The lookup of the first socket event that brought one of our views, as before batching.
      if (ours && !lookup) lookup = entry.lookup
    }
    const numbers = lids.size
      ? await this.lids.resolve(sessionId, [...lids], lookup)
      : new Map<string, string>()

    const records: ViewerRecord[] = []
    /** status id → viewer JID → position in `records`. */
    const positions = new Map<string, Map<string, number>>()
    const { sliceSize } = this.options
    let budget = sliceSize
    for (const { views } of entries) {
      for (const view of views) {
        if (--budget === 0) {
          budget = sliceSize
          await nextTurn()
        }
        const statusId = statusIds.get(view.waMessageId)
        if (!statusId) continue
        const record = viewerRecord(sessionId, statusId, view, numbers)
        if (!record) continue
        let byJid = positions.get(statusId)
        if (!byJid) {
          byJid = new Map()
          positions.set(statusId, byJid)
        }
        const seen = byJid.get(record.jid)
        if (seen === undefined) {
          byJid.set(record.jid, records.length)
          records.push(record)
        } else if (record.viewedAt < (records[seen] as ViewerRecord).viewedAt) {
          records[seen] = record
        }
      }
    }
    return records
  }

  private async statusIdsFor(
    sessionId: string,
    waMessageIds: Iterable<string>,
  ): Promise<Map<string, string>> {
    const found = new Map<string, string>()
    const missing: string[] = []
    for (const id of waMessageIds) {
      const key = `${sessionId}\u0000${id}`
      const cached = this.statusIds.get(key)
      if (cached) found.set(id, cached)
      else if (cached === undefined) missing.push(id)
    }
    await Promise.all(
      missing.map(async (id) => {
        const status = await this.deps.repos.statuses.getByWaMessageId(sessionId, id)
        this.statusIds.set(`${sessionId}\u0000${id}`, status?.id ?? null)
        if (status) found.set(id, status.id)
      }),
    )
    return found
  }
}

const countViews = (entries: readonly QueuedViews[]): number =>
  entries.reduce((sum, entry) => sum + entry.views.length, 0)

const PN_SUFFIX = '@s.whatsapp.net'
const LID_SUFFIX = '@lid'

/**
 * Whether `jid` is exactly `user@server` for the server in `suffix`, with no agent or device in
 * the user part: then its user is everything before the suffix. Receipts carry JIDs in this
 * normalised form (see `RawView`), and reading them this way spares the per-receipt allocations of
 * `decodeJid`; anything else takes the general helpers.
 */
const isPlainJid = (jid: string, suffix: string): boolean => {
  const at = jid.length - suffix.length
  return at > 0 && jid.endsWith(suffix) && jid.indexOf('@') === at && !jid.includes(':') && !jid.includes('_')
}

/** `isLidJid`, cheap for the usual normalised JIDs. */
const isLidViewer = (jid: string): boolean =>
  isPlainJid(jid, LID_SUFFIX) || (!isPlainJid(jid, PN_SUFFIX) && isLidJid(jid))

const viewerRecord = (
  sessionId: string,
  statusId: string,
  view: RawView,
  numbers: Map<string, string>,
): ViewerRecord | null => {
  // The usual case first: a phone JID is already the row's JID, its user part the number.
  if (isPlainJid(view.viewerJid, PN_SUFFIX)) {
    return {
      sessionId,
      statusId,
      jid: view.viewerJid,
      number: view.viewerJid.slice(0, -PN_SUFFIX.length),
      lid: null,
      isReal: true,
      viewedAt: view.viewedAt,
    }
  }
  if (isLidViewer(view.viewerJid)) {
    const number = numbers.get(view.viewerJid)
    return number
      ? {
          sessionId,
          statusId,
          jid: phoneJid(number),
          number,
          lid: view.viewerJid,
          isReal: true,
          viewedAt: view.viewedAt,
        }
      : {
          sessionId,
          statusId,
          jid: view.viewerJid,
          number: null,
          lid: view.viewerJid,
          isReal: false,
          viewedAt: view.viewedAt,
        }
  }
  const number = jidUser(view.viewerJid)
  if (!number) return null
  return {
    sessionId,
    statusId,
    jid: phoneJid(number),
    number,
    lid: null,
    isReal: true,
    viewedAt: view.viewedAt,
  }
}
