import type { Logger } from 'pino'
import type { EventPublisher } from '../shared/bus/types.js'
import { byViewOrder } from '../shared/db/repositories/viewers.js'
import type { ViewerRecord, ViewersRepo } from '../shared/db/types.js'
import { toViewer, ViewerListCache } from './viewer-list-cache.js'

interface PendingStatus {
  sessionId: string
  statusId: string
  added: ViewerRecord[]
}

/** Pending statuses by session, then status: no key string is built per record. */
type PendingBySession = Map<string, Map<string, PendingStatus>>

/**
 * Viewers read back per database call when a full list is not cached. The local libSQL driver
 * decodes rows on the event loop (≈ 20 ms per thousand here), so a list of thousands is read in
 * pages with a macrotask between them instead of in one stall.
 */
const LIST_PAGE = 500

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * Publishes `status-viewers-update` events: the viewers a status just gained plus its full list.
 * Runs beside the writes rather than inside them, one pass at a time: whatever was recorded while
 * a pass ran is announced by the next pass, one event per status, so events stay in order and a
 * burst costs one full-list read per status per pass, not per write.
 */
export class ViewerAnnouncer {
  private pending: PendingBySession = new Map()
  private running: Promise<void> | null = null
  private readonly lists = new ViewerListCache()

  constructor(private readonly deps: { viewers: ViewersRepo; events: EventPublisher; logger: Logger }) {}

  add(records: ViewerRecord[]): void {
    for (const record of records) {
      let byStatus = this.pending.get(record.sessionId)
      if (!byStatus) {
        byStatus = new Map()
        this.pending.set(record.sessionId, byStatus)
      }
      const entry = byStatus.get(record.statusId)
      if (entry) entry.added.push(record)
      else
        byStatus.set(record.statusId, {
          sessionId: record.sessionId,
          statusId: record.statusId,
          added: [record],
        })
    }
    if (this.pending.size && !this.running) this.running = this.run()
  }

  /** Drops cached lists of deleted statuses (`statusId` omitted: all of the session's). */
  forget(sessionId: string, statusId?: string): void {
    const prefix = statusId === undefined ? `${sessionId}\u0000` : `${sessionId}\u0000${statusId}`
    this.lists.forget((key) => (statusId === undefined ? key.startsWith(prefix) : key === prefix))
  }

  /** Resolves once everything added so far has been announced. */
  async idle(): Promise<void> {
    while (this.running) await this.running
  }

  private async run(): Promise<void> {
    try {
      while (this.pending.size) {
        const batch = [...this.pending.values()].flatMap((byStatus) => [...byStatus.values()])
        this.pending = new Map()
        await Promise.all(batch.map((entry) => this.announce(entry)))
      }
    } finally {
      this.running = null
    }
  }

  private async announce({ sessionId, statusId, added }: PendingStatus): Promise<void> {
    try {
      const key = `${sessionId}\u0000${statusId}`
      // Converted once: the same objects are the news and the tail of the full list.
      const newViewers = added.map(toViewer)
      const viewers =
        this.lists.extend(key, newViewers) ?? this.lists.fill(key, await this.readList(sessionId, statusId))
      await this.deps.events.publish({
        event: 'status-viewers-update',
        payload: { sessionId, statusId, viewers, newViewers },
      })
    } catch (error) {
      this.forget(sessionId, statusId)
      // The views are stored; only this live update is lost, the next one carries the full list.
      this.deps.logger.error({ err: error, sessionId, statusId }, 'announcing status viewers failed')
    }
  }

  /**
   * The stored viewers of a status, in list order. Rows written while the pages are read may be
   * missing or present; either way they are in a later `add`, which the list cache merges by JID.
   */
  private async readList(sessionId: string, statusId: string): Promise<ViewerRecord[]> {
    const records: ViewerRecord[] = []
    let after: string | null = null
    for (;;) {
      const page = await this.deps.viewers.listPage(sessionId, statusId, after, LIST_PAGE)
      for (const record of page) records.push(record)
      if (page.length < LIST_PAGE) break
      after = (page.at(-1) as ViewerRecord).jid
      await nextTurn()
    }
    return records.sort(byViewOrder)
  }
}
