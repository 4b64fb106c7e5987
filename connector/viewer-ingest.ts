import type { Logger } from 'pino'
import type { Bus } from '../shared/bus/types.js'
import type { Repositories, ViewerRecord } from '../shared/db/types.js'
import { isLidJid, jidUser, phoneJid } from './jid.js'
import { type LidLookup, LidResolver } from './lid-resolution.js'
import { LruMap } from './lru.js'
import type { RawView } from './receipts.js'
import { ViewerAnnouncer } from './viewer-announcer.js'

export interface ViewerIngestOptions {
  /** Flush at once when this many views are queued. */
  maxBatch: number
  /** Otherwise flush this long after the first queued view. */
  flushDelayMs: number
  /** How many tries a batch gets when the database refuses it. */
  maxAttempts: number
}

export const DEFAULT_INGEST_OPTIONS: ViewerIngestOptions = {
  maxBatch: 5_000,
  flushDelayMs: 20,
  maxAttempts: 3,
}

interface QueuedView extends RawView {
  sessionId: string
  lookup: LidLookup | null
  attempts: number
}

/**
 * Turns status receipts into viewer rows and `status-viewers-update` events, for every session of
 * the connector at once. Receipts come in bursts (a status seen by thousands within seconds), so
 * views are queued and flushed together: one shared timer, one `recordMany` per flush whatever the
 * number of sessions, and at most one event per status per flush (see `ViewerAnnouncer`). No
 * receipt costs a database round trip of its own.
 */
export class ViewerIngest {
  private queue: QueuedView[] = []
  private timer: NodeJS.Timeout | null = null
  private flushing: Promise<void> | null = null
  /** `${sessionId}\0${waMessageId}` → status id, or null for messages that are not our statuses. */
  private readonly statusIds = new LruMap<string, string | null>(20_000)
  readonly lids: LidResolver
  private readonly announcer: ViewerAnnouncer
  private readonly options: ViewerIngestOptions

  constructor(
    private readonly deps: { repos: Repositories; bus: Bus; logger: Logger },
    options: Partial<ViewerIngestOptions> = {},
  ) {
    this.options = { ...DEFAULT_INGEST_OPTIONS, ...options }
    this.lids = new LidResolver(deps.repos.lidMap)
    this.announcer = new ViewerAnnouncer({ viewers: deps.repos.viewers, bus: deps.bus, logger: deps.logger })
  }

  get pending(): number {
    return this.queue.length
  }

  push(sessionId: string, views: RawView[], lookup: LidLookup | null): void {
    for (const view of views) this.queue.push({ ...view, sessionId, lookup, attempts: 0 })
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
    if (this.queue.length >= this.options.maxBatch) {
      this.clearTimer()
      void this.flush()
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null
        void this.flush()
      }, this.options.flushDelayMs)
    }
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
  }

  private retry(batch: QueuedView[], error: unknown): void {
    const again = batch.filter((view) => ++view.attempts < this.options.maxAttempts)
    this.deps.logger.error(
      { err: error, views: batch.length, retrying: again.length },
      'recording status viewers failed',
    )
    this.queue = again.concat(this.queue)
  }

  private async write(batch: QueuedView[]): Promise<void> {
    const bySession = new Map<string, QueuedView[]>()
    for (const view of batch) {
      const list = bySession.get(view.sessionId)
      if (list) list.push(view)
      else bySession.set(view.sessionId, [view])
    }
    const perSession = await Promise.all(
      [...bySession].map(([sessionId, views]) => this.toRecords(sessionId, views)),
    )
    // A failed LID write must not hold the viewers up: the pairs stay queued for the next flush.
    await this.lids
      .saveLearned()
      .catch((error) => this.deps.logger.warn({ err: error }, 'saving LID pairs failed'))
    const records = perSession.flat()
    if (!records.length) return
    const added = await this.deps.repos.viewers.recordMany(records)
    this.announcer.add(added)
  }

  /** Maps views to rows for one session: only our statuses, viewers resolved, earliest view kept. */
  private async toRecords(sessionId: string, views: QueuedView[]): Promise<ViewerRecord[]> {
    const statusIds = await this.statusIdsFor(sessionId, [...new Set(views.map((v) => v.waMessageId))])
    const ours = views.filter((view) => statusIds.has(view.waMessageId))
    if (!ours.length) return []
    const lids = [...new Set(ours.filter((v) => isLidJid(v.viewerJid)).map((v) => v.viewerJid))]
    const numbers = lids.length
      ? await this.lids.resolve(sessionId, lids, ours.find((v) => v.lookup)?.lookup ?? null)
      : new Map<string, string>()

    const earliest = new Map<string, ViewerRecord>()
    for (const view of ours) {
      const statusId = statusIds.get(view.waMessageId)
      if (!statusId) continue
      const record = viewerRecord(sessionId, statusId, view, numbers)
      if (!record) continue
      const key = `${statusId}\u0000${record.jid}`
      const seen = earliest.get(key)
      if (!seen || record.viewedAt < seen.viewedAt) earliest.set(key, record)
    }
    return [...earliest.values()]
  }

  private async statusIdsFor(sessionId: string, waMessageIds: string[]): Promise<Map<string, string>> {
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

const viewerRecord = (
  sessionId: string,
  statusId: string,
  view: RawView,
  numbers: Map<string, string>,
): ViewerRecord | null => {
  if (isLidJid(view.viewerJid)) {
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
