import { appError } from '../../shared/errors.js'
import { requireSession, type ServiceContext } from './context.js'
import { type PageRequest, pageOf } from './pages.js'
import { type ContactSort, contactReach, dailyTotals } from './session-analytics.js'
import { type BucketName, statusAnalytics } from './status-analytics.js'

const DAY_MS = 86_400_000

/**
 * Viewer analytics: one status (from the live tables), and across a session's statuses (live and
 * the history the retention job keeps for ANALYTICS_HISTORY_DAYS).
 */
export class AnalyticsService {
  constructor(private readonly ctx: ServiceContext) {}

  /** Reach, the audience still to view and views over time of one status. */
  async status(sessionId: string, statusId: string, bucket: BucketName) {
    const session = await requireSession(this.ctx, sessionId)
    const [status, viewers] = await Promise.all([
      this.ctx.repos.statuses.get(sessionId, statusId),
      this.ctx.repos.viewers.listForStatus(sessionId, statusId),
    ])
    if (!status || !viewers) throw appError('statusNotFound')
    return statusAnalytics(status, viewers, session.ownNumber, bucket)
  }

  /** Per contact, of the last `last` sent statuses: received, viewed, first and last view; ranked. */
  async contacts(sessionId: string, options: { last: number; sort: ContactSort; page: PageRequest }) {
    const session = await requireSession(this.ctx, sessionId)
    const { analytics } = this.ctx.repos
    const statuses = await analytics.recentStatuses(sessionId, options.last)
    const views = await analytics.viewsOf(
      sessionId,
      statuses.map((status) => status.id),
    )
    const { contacts, unresolvedViews } = contactReach(statuses, views, session.ownNumber, options.sort)
    // A ranking has no stable position of its own: its cursor is the rank where the next page starts.
    const ranked = contacts.map((contact, rank) => ({ contact, rank }))
    const page = pageOf(ranked, (item) => [item.rank, 'rank'], 'ascending', options.page)
    const oldest = statuses.at(-1)
    return {
      data: {
        statuses: statuses.length,
        since: oldest ? new Date(oldest.createdAt).toISOString() : null,
        unresolvedViews,
        contacts: page.items.map((item) => item.contact),
      },
      nextCursor: page.nextCursor,
    }
  }

  /** Totals per UTC day for the last `days` days, today included. */
  async daily(sessionId: string, days: number) {
    const session = await requireSession(this.ctx, sessionId)
    const now = this.ctx.clock()
    const since = (Math.floor(now / DAY_MS) - days + 1) * DAY_MS
    const { analytics } = this.ctx.repos
    const [statuses, views] = await Promise.all([
      analytics.statusesSince(sessionId, since),
      analytics.viewsSince(sessionId, since),
    ])
    return { days: dailyTotals(statuses, views, session.ownNumber, days, now) }
  }
}
