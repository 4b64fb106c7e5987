import type { Logger } from 'pino'
import type { Bus } from '../shared/bus/types.js'
import type { Repositories, StatusRecord } from '../shared/db/types.js'
import type { MediaStore } from '../shared/storage/types.js'

export interface RetentionDeps {
  repos: Repositories
  media: MediaStore
  bus: Bus
  logger: Logger
  intervalMs: number
  now: () => number
  /** Told about every status removed, so caches holding its id can let go. */
  onDeleted?: (status: StatusRecord) => void
}

/**
 * Removes statuses past their expiry (with their viewers), then the uploads no status uses any
 * more, and tells clients once per session that its list changed. Runs at start and then every
 * `intervalMs`, on a single timer for the whole connector.
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
    const { repos, media, bus, logger } = this.deps
    const expired = await repos.statuses.deleteExpired(this.deps.now())
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
      await bus.publish({
        event: 'statuses-updated',
        payload: { sessionId, message: 'Statuses updated', action: 'cleanup' },
      })
    }
    logger.info({ statuses: expired.length, sessions: sessions.size }, 'expired statuses removed')
    return expired.length
  }
}
