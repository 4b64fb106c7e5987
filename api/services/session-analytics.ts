import type { SentStatusSummary, ViewSummary } from '../../shared/db/types.js'
import { parseTargetNumbers } from '../../shared/schemas.js'
import { iso } from './views.js'

export type ContactSort = 'most-viewed' | 'least-viewed'

export interface ContactReach {
  number: string
  /** Of the statuses looked at, how many were sent to this number. */
  received: number
  /** How many of those (or of any, for a number outside the audience) it viewed. */
  viewed: number
  /** viewed ÷ received in percent (one decimal); null when it received none. */
  viewRate: number | null
  firstViewAt: string | null
  lastViewAt: string | null
}

const DAY_MS = 86_400_000

/**
 * How each contact treats the session's statuses: per number, how many of `statuses` it got and
 * viewed, and when it first and last viewed one. Views from LID-only viewers cannot be tied to a
 * number and are counted apart; the account's own number is left out.
 */
export const contactReach = (
  statuses: readonly SentStatusSummary[],
  views: readonly ViewSummary[],
  ownNumber: string | null,
  sort: ContactSort,
): { contacts: ContactReach[]; unresolvedViews: number } => {
  const byNumber = new Map<string, { received: number; viewed: Set<string>; first: number; last: number }>()
  const entry = (number: string) => {
    let found = byNumber.get(number)
    if (!found) {
      found = {
        received: 0,
        viewed: new Set(),
        first: Number.POSITIVE_INFINITY,
        last: Number.NEGATIVE_INFINITY,
      }
      byNumber.set(number, found)
    }
    return found
  }
  for (const status of statuses) {
    for (const number of parseTargetNumbers(status.targetNumbers))
      if (number !== ownNumber) entry(number).received++
  }
  let unresolvedViews = 0
  for (const view of views) {
    if (view.number === null) {
      unresolvedViews++
      continue
    }
    if (view.number === ownNumber) continue
    const found = entry(view.number)
    found.viewed.add(view.statusId)
    found.first = Math.min(found.first, view.viewedAt)
    found.last = Math.max(found.last, view.viewedAt)
  }
  const contacts = [...byNumber].map(([number, found]): ContactReach & { lastMs: number } => ({
    number,
    received: found.received,
    viewed: found.viewed.size,
    viewRate: found.received
      ? Math.round((Math.min(found.viewed.size, found.received) / found.received) * 1000) / 10
      : null,
    firstViewAt: found.viewed.size ? iso(found.first) : null,
    lastViewAt: found.viewed.size ? iso(found.last) : null,
    lastMs: found.viewed.size ? found.last : 0,
  }))
  const rate = (contact: ContactReach) => contact.viewRate ?? -1
  contacts.sort((a, b) =>
    sort === 'most-viewed'
      ? rate(b) - rate(a) || b.viewed - a.viewed || b.lastMs - a.lastMs || (a.number < b.number ? -1 : 1)
      : rate(a) - rate(b) || b.received - a.received || a.lastMs - b.lastMs || (a.number < b.number ? -1 : 1),
  )
  return { contacts: contacts.map(({ lastMs: _, ...contact }) => contact), unresolvedViews }
}

export interface DayTotals {
  /** The UTC day, YYYY-MM-DD. */
  day: string
  statusesSent: number
  /** Audience sizes of the statuses sent that day, added up (own number excluded). */
  audience: number
  /** Views that happened that day, whatever day their status went out. */
  views: number
  /** Different viewers that day. */
  uniqueViewers: number
}

/** The last `days` UTC days up to `now`, oldest first, empty days included. */
export const dailyTotals = (
  statuses: readonly SentStatusSummary[],
  views: readonly ViewSummary[],
  ownNumber: string | null,
  days: number,
  now: number,
): DayTotals[] => {
  const today = Math.floor(now / DAY_MS)
  const first = today - days + 1
  const totals = Array.from({ length: days }, (_, i) => ({
    day: iso((first + i) * DAY_MS).slice(0, 10),
    statusesSent: 0,
    audience: 0,
    views: 0,
    viewers: new Set<string>(),
  }))
  const slot = (ms: number) => totals[Math.floor(ms / DAY_MS) - first]
  for (const status of statuses) {
    const day = slot(status.createdAt)
    if (!day) continue
    day.statusesSent++
    day.audience += parseTargetNumbers(status.targetNumbers).filter((n) => n !== ownNumber).length
  }
  for (const view of views) {
    const day = slot(view.viewedAt)
    if (!day || (view.number !== null && view.number === ownNumber)) continue
    day.views++
    day.viewers.add(view.jid)
  }
  return totals.map(({ viewers, ...day }) => ({ ...day, uniqueViewers: viewers.size }))
}
