import type { Client, InStatement, Row } from '@libsql/client'
import type { AnalyticsRepo, SentStatusSummary, ViewSummary } from '../types.js'
import { integer, jsonList, text, textOrNull } from './rows.js'

/**
 * Reads for analytics across statuses: the live tables (statuses of the retention window) and the
 * history of expired ones (status_archive, viewer_archive), as one list each. A status is in one
 * of the two, never both: the retention job moves it in the batch that deletes it.
 */

const toSummary = (row: Row): SentStatusSummary => ({
  id: text(row, 'id'),
  createdAt: integer(row, 'created_at'),
  targetNumbers: text(row, 'target_numbers'),
})

const toView = (row: Row): ViewSummary => ({
  statusId: text(row, 'status_id'),
  jid: text(row, 'jid'),
  number: textOrNull(row, 'number'),
  viewedAt: integer(row, 'viewed_at'),
})

const SENT = `SELECT id, created_at, target_numbers FROM statuses WHERE session_id = ? AND state = 'sent'`
const ARCHIVED = 'SELECT id, created_at, target_numbers FROM status_archive WHERE session_id = ?'
const LIVE_VIEWS = 'SELECT status_id, jid, number, viewed_at FROM status_viewers WHERE session_id = ?'
const ARCHIVED_VIEWS = 'SELECT status_id, jid, number, viewed_at FROM viewer_archive WHERE session_id = ?'

export function createAnalyticsRepo(client: Client): AnalyticsRepo {
  const rows = async (statement: InStatement) => (await client.execute(statement)).rows

  return {
    async recentStatuses(sessionId, limit) {
      return (
        await rows({
          sql: `${SENT} UNION ALL ${ARCHIVED} ORDER BY created_at DESC, id DESC LIMIT ?`,
          args: [sessionId, sessionId, limit],
        })
      ).map(toSummary)
    },

    async statusesSince(sessionId, since) {
      return (
        await rows({
          sql: `${SENT} AND created_at >= ? UNION ALL ${ARCHIVED} AND created_at >= ? ORDER BY created_at`,
          args: [sessionId, since, sessionId, since],
        })
      ).map(toSummary)
    },

    async viewsOf(sessionId, statusIds) {
      if (statusIds.length === 0) return []
      const ids = jsonList(statusIds)
      const inList = 'AND status_id IN (SELECT value FROM json_each(?))'
      return (
        await rows({
          sql: `${LIVE_VIEWS} ${inList} UNION ALL ${ARCHIVED_VIEWS} ${inList}`,
          args: [sessionId, ids, sessionId, ids],
        })
      ).map(toView)
    },

    async viewsSince(sessionId, since) {
      return (
        await rows({
          sql: `${LIVE_VIEWS} AND viewed_at >= ? UNION ALL ${ARCHIVED_VIEWS} AND viewed_at >= ?`,
          args: [sessionId, since, sessionId, since],
        })
      ).map(toView)
    },
  }
}
