import type { ServiceContext } from './context.js'
import { isConnected, iso } from './views.js'

/** Health, aggregate statistics and storage usage. */
export class SystemService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly info: { version: string; startedAt: number },
  ) {}

  /** Public: says nothing about sessions or configuration. */
  health() {
    const now = this.ctx.clock()
    return {
      status: 'healthy' as const,
      timestamp: iso(now),
      uptime: Math.max(0, (now - this.info.startedAt) / 1000),
      version: this.info.version,
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
