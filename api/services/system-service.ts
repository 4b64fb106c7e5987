import type { LiveConnector } from '../../shared/bus/connector-directory.js'
import { Messages } from '../../shared/errors.js'
import type { HealthProbe, HealthReport } from '../../shared/health.js'
import type { ServiceContext } from './context.js'
import { encodeJson, type JsonBytes } from './prepared-json.js'
import { isConnected, iso, isoOrNull } from './views.js'

const ALL_UP: HealthReport = { db: 'up', redis: 'not_used', storage: 'up', connectors: 'up' }

type Health = ReturnType<SystemService['healthAt']>

/** The public health check's answer: 200 while the database answers, 503 when it does not. */
export type HealthAnswer =
  | { status: 200; body: JsonBytes<{ success: true; data: Health }> }
  | { status: 503; body: JsonBytes<{ success: false; error: string; data: Health }> }

/** Health, aggregate statistics and storage usage. */
export class SystemService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly info: { version: string; startedAt: number; health?: HealthProbe },
  ) {}

  /**
   * Public: up/down per dependency, nothing about sessions or configuration. `unhealthy` (503)
   * when the database is down, since then nothing can be answered; `degraded` when something
   * else is (reads still work, commands may not).
   */
  async health() {
    return this.healthAt(this.info.health ? await this.info.health.check() : ALL_UP, this.ctx.clock())
  }

  /**
   * The keyless answer of `GET /api/health`. It changes once per millisecond at most (timestamp,
   * uptime) and with the probe's report, so a load balancer's polling serializes it once per
   * millisecond instead of once per request.
   */
  async healthAnswer(): Promise<HealthAnswer> {
    return this.answerFor(this.info.health ? await this.info.health.check() : ALL_UP)
  }

  /** The same without waiting: undefined while a probe round is due. */
  peekHealthAnswer(): HealthAnswer | undefined {
    const components = this.info.health ? this.info.health.peek?.() : ALL_UP
    return components && this.answerFor(components)
  }

  private lastAnswer: { components: HealthReport; at: number; answer: HealthAnswer } | null = null

  private answerFor(components: HealthReport): HealthAnswer {
    const now = this.ctx.clock()
    const last = this.lastAnswer
    if (last && last.components === components && last.at === now) return last.answer
    const data = this.healthAt(components, now)
    const answer: HealthAnswer =
      data.status === 'unhealthy'
        ? { status: 503, body: encodeJson({ success: false as const, error: Messages.databaseDown, data }) }
        : { status: 200, body: encodeJson({ success: true as const, data }) }
    this.lastAnswer = { components, at: now, answer }
    return answer
  }

  healthAt(components: HealthReport, now: number) {
    const status =
      components.db === 'down'
        ? ('unhealthy' as const)
        : Object.values(components).includes('down')
          ? ('degraded' as const)
          : ('healthy' as const)
    return {
      status,
      timestamp: iso(now),
      uptime: Math.max(0, (now - this.info.startedAt) / 1000),
      version: this.info.version,
      components,
    }
  }

  /** For callers with the key: the live connectors and how many sessions each holds. */
  async connectors(): Promise<LiveConnector[]> {
    if (!this.info.health) return []
    try {
      return await this.info.health.connectors()
    } catch {
      return []
    }
  }

  async stats() {
    const { repos } = this.ctx
    const [sessions, statuses, totalViewers] = await Promise.all([
      repos.sessions.list(),
      repos.statuses.stats(),
      repos.viewers.count(),
    ])
    return {
      totalSessions: sessions.length,
      connectedSessions: sessions.filter(isConnected).length,
      totalStatuses: statuses.total,
      totalViewers,
      lastStatusSent: isoOrNull(statuses.lastSentAt),
      sessions: sessions.map((session) => ({
        sessionId: session.id,
        sessionName: session.name,
        connected: isConnected(session),
        status: session.state,
        ownNumber: session.ownNumber,
        statusCount: statuses.perSession[session.id] ?? 0,
        createdAt: iso(session.createdAt),
      })),
    }
  }

  storage() {
    return this.ctx.repos.storageUsage()
  }
}
