import type { LiveConnector } from '../../shared/bus/connector-directory.js'
import type { HealthProbe, HealthReport } from '../../shared/health.js'
import type { ServiceContext } from './context.js'
import { isConnected, iso } from './views.js'

const ALL_UP: HealthReport = { db: 'up', redis: 'not_used', storage: 'up', connectors: 'up' }

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
    const now = this.ctx.clock()
    const components = this.info.health ? await this.info.health.check() : ALL_UP
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
      lastStatusSent: statuses.lastSentAt === null ? null : iso(statuses.lastSentAt),
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
