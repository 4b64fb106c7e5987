import type { Logger } from 'pino'
import type { CommandInput } from '../shared/commands.js'
import type { Repositories, ScheduledStatusRecord } from '../shared/db/types.js'
import { AppError } from '../shared/errors.js'

const DAY_MS = 86_400_000
const PERIOD_MS = { daily: DAY_MS, weekly: 7 * DAY_MS } as const

/** Due rows read per pass. */
const BATCH = 50

export interface StatusSchedulerDeps {
  repos: Repositories
  logger: Logger
  now: () => number
  /** SCHEDULE_GRACE_SECONDS in ms: how late a send may still go out. */
  graceMs: number
  /** After this long in `sending` a send counts as interrupted (its connector died). */
  stuckAfterMs: number
  /** How often the connector looks for due sends (one timer for all its sessions). */
  pollMs: number
  /** Whether this connector holds the session with its connection open. */
  holds(sessionId: string): boolean
  send(input: CommandInput<'status.send'>): Promise<{ statusId: string }>
}

/**
 * Sends scheduled statuses when their time comes, from the connector that holds the session. A
 * send is claimed in the database (scheduled → sending, one statement) before it starts, so it
 * happens once however many connectors look; one left `sending` by a connector that died is marked
 * failed, never sent again (WhatsApp may have it). A send whose time passed while nobody could send
 * it still goes out within the grace, later it is `missed`; repeats move on to their next time.
 */
export class StatusScheduler {
  private timer: NodeJS.Timeout | null = null
  private readonly running = new Set<Promise<void>>()
  private passing: Promise<void> | null = null

  constructor(private readonly deps: StatusSchedulerDeps) {}

  start(): void {
    if (this.timer) return
    this.timer = setInterval(() => void this.runOnce(), this.deps.pollMs)
    this.timer.unref?.()
    void this.runOnce()
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    await this.passing
    await Promise.allSettled([...this.running])
  }

  /** One pass; overlapping calls share it. */
  runOnce(): Promise<void> {
    this.passing ??= this.pass()
      .catch((error) => this.deps.logger.warn({ err: error }, 'scheduled statuses pass failed'))
      .finally(() => {
        this.passing = null
      })
    return this.passing
  }

  private async pass(): Promise<void> {
    const { repos, now: clock, graceMs } = this.deps
    const now = clock()
    for (const stuck of await repos.scheduled.stuck(now - this.deps.stuckAfterMs)) {
      await this.finish(stuck, 'sending', {
        error: 'The connector stopped while sending it; it may have been posted, so it is not sent again',
      })
    }
    for (const due of await repos.scheduled.due(now, BATCH)) {
      if (now - due.sendAt > graceMs) {
        await this.finish(due, 'scheduled', { error: 'Missed: nothing could send it in time', missed: true })
        continue
      }
      if (!this.deps.holds(due.sessionId)) continue
      if (!(await repos.scheduled.transition(due.sessionId, due.id, 'scheduled', 'sending'))) continue
      const work = this.sendOne(due).finally(() => this.running.delete(work))
      this.running.add(work)
    }
  }

  private async sendOne(record: ScheduledStatusRecord): Promise<void> {
    try {
      const reply = await this.deps.send({
        ...(record.request as Omit<CommandInput<'status.send'>, 'sessionId'>),
        sessionId: record.sessionId,
      })
      await this.finish(record, 'sending', { statusId: reply.statusId })
      this.deps.logger.info({ sessionId: record.sessionId, scheduledId: record.id }, 'scheduled status sent')
    } catch (error) {
      const message = error instanceof AppError ? error.message : 'The send failed'
      await this.finish(record, 'sending', { error: message })
    }
  }

  /**
   * Records how a send went: a repeat moves on to its next time ahead of now, a one-off ends as
   * done, failed or missed.
   */
  private async finish(
    record: ScheduledStatusRecord,
    from: 'scheduled' | 'sending',
    outcome: { statusId?: string; error?: string; missed?: boolean },
  ): Promise<void> {
    const sent = outcome.statusId !== undefined
    const changes = {
      ...(sent ? { lastStatusId: outcome.statusId, sentCount: record.sentCount + 1, lastError: null } : {}),
      ...(outcome.error !== undefined ? { lastError: outcome.error } : {}),
    }
    if (record.repeat !== 'none') {
      const period = PERIOD_MS[record.repeat]
      const now = this.deps.now()
      const next = record.sendAt + Math.max(1, Math.ceil((now - record.sendAt + 1) / period)) * period
      await this.deps.repos.scheduled.transition(record.sessionId, record.id, from, 'scheduled', {
        ...changes,
        sendAt: next,
      })
      return
    }
    const to = sent ? 'done' : outcome.missed ? 'missed' : 'failed'
    await this.deps.repos.scheduled.transition(record.sessionId, record.id, from, to, changes)
  }
}
