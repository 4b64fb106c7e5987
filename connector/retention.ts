import type { Logger } from 'pino'
import type { EventPublisher } from '../shared/bus/types.js'
import type { Repositories, StatusRecord } from '../shared/db/types.js'
import { Messages } from '../shared/errors.js'
import type { MediaStore } from '../shared/storage/types.js'

/** How long the outcome of a durable command is kept for redeliveries. */
export const COMMAND_LOG_RETENTION_MS = 24 * 3_600_000

export interface RetentionDeps {
  /** How old a `pending` status must be to count as abandoned (past any late-ack wait). */
  pendingGiveUpMs: number
  repos: Repositories
  media: MediaStore
  events: EventPublisher
  logger: Logger
  intervalMs: number
  now: () => number
  /**
   * How old an upload no status uses must be before it is removed: its link's lifetime plus a
   * grace (UPLOAD_URL_TTL_SECONDS + ORPHAN_UPLOAD_GRACE_SECONDS).
   */
  orphanUploadAgeMs: number
  /** Uploads a send of this process is reading right now, before its status row refers to them. */
  mediaInUse?: MediaInUse
  /**
   * How long analytics keep an expired status's audience and views (ANALYTICS_HISTORY_DAYS);
   * 0: not at all. Default 0.
   */
  historyMs?: number
  /** Told about every status removed, so caches holding its id can let go. */
  onDeleted?: (status: StatusRecord) => void
}

/** Orphan candidates read per query. */
const ORPHAN_BATCH = 100

/**
 * Uploads that sends are using between reading the file and storing the status that refers to it:
 * in that window no row protects them, so the orphan sweep asks here too.
 */
export class MediaInUse {
  private readonly claims = new Map<string, number>()

  /** Marks `filename` in use until the returned function is called. */
  claim(filename: string): () => void {
    this.claims.set(filename, (this.claims.get(filename) ?? 0) + 1)
    let released = false
    return () => {
      if (released) return
      released = true
      const left = (this.claims.get(filename) ?? 1) - 1
      if (left > 0) this.claims.set(filename, left)
      else this.claims.delete(filename)
    }
  }

  has(filename: string): boolean {
    return this.claims.has(filename)
  }
}

/**
 * Removes statuses past their expiry (with their viewers; what analytics need of them moves to
 * the history, kept `historyMs`), then the uploads no status uses any more, and tells clients once per session that its list changed. Then it sweeps orphans: uploads
 * that no status has ever used (or uses any more) and signed-link records whose file never came,
 * once they are `orphanUploadAgeMs` old. Runs at start and then every `intervalMs`, on a single
 * timer for the whole connector.
 */
export class RetentionJob {
  private timer: NodeJS.Timeout | null = null
  private running: Promise<number> | null = null

  constructor(private readonly deps: RetentionDeps) {}

  start(): void {
    if (this.timer) return
    void this.runOnce()
    this.timer = setInterval(() => void this.runOnce(), this.deps.intervalMs)
    this.timer.unref?.()
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    await this.running
  }

  /** One pass; returns how many statuses were removed. Overlapping calls share the pass. */
  runOnce(): Promise<number> {
    if (!this.running) {
      this.running = this.sweep()
        .catch((error) => {
          this.deps.logger.error({ err: error }, 'status retention pass failed')
          return 0
        })
        .finally(() => {
          this.running = null
        })
    }
    return this.running
  }

  private async sweep(): Promise<number> {
    const removed = await this.removeExpired()
    await this.removeOrphans().catch((error) =>
      this.deps.logger.error({ err: error }, 'removing orphan uploads failed'),
    )
    // A send whose process died (kill, crash, lost lease) before any verdict stays `pending`
    // forever otherwise: past the final bound nothing can still be waiting for its ack.
    await this.deps.repos.statuses
      .failStalePending(this.deps.now() - this.deps.pendingGiveUpMs, Messages.sendAbandoned)
      .catch((error) => this.deps.logger.warn({ err: error }, 'failing abandoned sends failed'))
    // Command outcomes only matter while a command can still be redelivered (minutes); a day of
    // them is plenty, and the log must not grow with every send forever.
    await this.deps.repos.commandLog
      .deleteOlderThan(this.deps.now() - COMMAND_LOG_RETENTION_MS)
      .catch((error) => this.deps.logger.warn({ err: error }, 'trimming the command log failed'))
    return removed
  }

  private async removeExpired(): Promise<number> {
    const { repos, media, events, logger } = this.deps
    const now = this.deps.now()
    const historyMs = this.deps.historyMs ?? 0
    const expired = await repos.statuses.deleteExpired(now, { archive: historyMs > 0 })
    await repos.statuses
      .pruneArchive(now - historyMs)
      .catch((error) => logger.warn({ err: error }, 'trimming the analytics history failed'))
    if (!expired.length) return 0
    for (const status of expired) this.deps.onDeleted?.(status)

    const files = new Set(expired.flatMap((status) => (status.mediaFilename ? [status.mediaFilename] : [])))
    for (const filename of files) {
      try {
        if (await repos.statuses.isMediaReferenced(filename)) continue
        await repos.uploads.delete(filename)
        await media.delete(filename)
      } catch (error) {
        logger.warn({ err: error, filename }, 'removing expired media failed')
      }
    }

    const sessions = new Set(expired.map((status) => status.sessionId))
    for (const sessionId of sessions) {
      await events.publish({
        event: 'statuses-updated',
        payload: { sessionId, message: 'Statuses updated', action: 'cleanup' },
      })
    }
    logger.info({ statuses: expired.length, sessions: sessions.size }, 'expired statuses removed')
    return expired.length
  }

  /**
   * Orphans in batches by filename. The record goes first, and only while still unused (one
   * statement), so a status stored meanwhile keeps both; the file follows. A record whose file
   * never arrived just goes.
   */
  private async removeOrphans(): Promise<number> {
    const { repos, media, logger, mediaInUse } = this.deps
    const createdBefore = this.deps.now() - this.deps.orphanUploadAgeMs
    let removed = 0
    let after: string | null = null
    for (;;) {
      const batch = await repos.uploads.listUnreferenced(createdBefore, { after, limit: ORPHAN_BATCH })
      for (const { filename } of batch) {
        if (mediaInUse?.has(filename)) continue
        try {
          if (!(await repos.uploads.deleteIfUnreferenced(filename, createdBefore))) continue
          removed++
          await media.delete(filename)
        } catch (error) {
          logger.warn({ err: error, filename }, 'removing an orphan upload failed')
        }
      }
      if (batch.length < ORPHAN_BATCH) break
      after = (batch.at(-1) as (typeof batch)[number]).filename
    }
    if (removed) logger.info({ uploads: removed }, 'orphan uploads removed')
    return removed
  }
}
