import type { Client, Row } from '@libsql/client'
import type { ViewerRecord, ViewersRepo } from '../types.js'
import { integer, jsonList, text, textOrNull } from './rows.js'

/*
 * Receipts arrive in bursts of thousands, so a whole array is written as ONE batch of two
 * statements over one JSON argument, whatever its length:
 *  1. find the rows that will not be inserted: the viewer is already recorded (the first view
 *     wins), or the status no longer exists (deleted while its receipts were queued; recording
 *     them would leave rows nothing ever deletes);
 *  2. insert the rest.
 * Both run in the same write transaction, so the answer of (1) is exactly what (2) skips. Asking
 * for the skipped rows rather than `RETURNING` the inserted ones keeps the common case (all new)
 * cheap: nothing comes back.
 * Each JSON element is [sessionId, statusId, jid, number, lid, isReal (0/1), viewedAt].
 */
const ROW = (field: number) => `r.value ->> ${field}`
const STATUS_EXISTS = `EXISTS (SELECT 1 FROM statuses s WHERE s.session_id = ${ROW(0)} AND s.id = ${ROW(1)})`

const FIND_SKIPPED = `SELECT r.key AS position FROM json_each(?) AS r
  WHERE NOT ${STATUS_EXISTS}
     OR EXISTS (SELECT 1 FROM status_viewers v
                WHERE v.session_id = ${ROW(0)} AND v.status_id = ${ROW(1)} AND v.jid = ${ROW(2)})`

// `WHERE` is required before `ON CONFLICT` in INSERT … SELECT (SQLite's parsing rule).
const INSERT_NEW = `INSERT INTO status_viewers (session_id, status_id, jid, number, lid, is_real, viewed_at)
  SELECT ${[0, 1, 2, 3, 4, 5, 6].map(ROW).join(', ')} FROM json_each(?) AS r
  WHERE ${STATUS_EXISTS}
  ON CONFLICT (session_id, status_id, jid) DO NOTHING`

export function createViewersRepo(client: Client): ViewersRepo {
  return {
    async recordMany(views) {
      const unique = earliestViewPerViewer(views)
      if (unique.length === 0) return []
      const rows = jsonList(
        unique.map((v) => [v.sessionId, v.statusId, v.jid, v.number, v.lid, v.isReal ? 1 : 0, v.viewedAt]),
      )
      const [skipped] = await client.batch(
        [
          { sql: FIND_SKIPPED, args: [rows] },
          { sql: INSERT_NEW, args: [rows] },
        ],
        'write',
      )
      const skippedPositions = new Set((skipped?.rows ?? []).map((row) => integer(row, 'position')))
      return unique.filter((_, position) => !skippedPositions.has(position))
    },

    async list(sessionId, statusId) {
      const result = await client.execute({
        sql: `SELECT * FROM status_viewers WHERE session_id = ? AND status_id = ?
              ORDER BY viewed_at, jid`,
        args: [sessionId, statusId],
      })
      return result.rows.map(toViewer)
    },

    async count() {
      const result = await client.execute('SELECT COUNT(*) AS total FROM status_viewers')
      const row = result.rows[0]
      return row ? integer(row, 'total') : 0
    },
  }
}

/** One entry per (session, status, viewer), in first-seen order, keeping the earliest view. */
function earliestViewPerViewer(views: readonly ViewerRecord[]): ViewerRecord[] {
  const byViewer = new Map<string, ViewerRecord>()
  for (const view of views) {
    const key = `${view.sessionId}\u0000${view.statusId}\u0000${view.jid}`
    const seen = byViewer.get(key)
    if (!seen || view.viewedAt < seen.viewedAt) byViewer.set(key, view)
  }
  return [...byViewer.values()]
}

function toViewer(row: Row): ViewerRecord {
  return {
    sessionId: text(row, 'session_id'),
    statusId: text(row, 'status_id'),
    jid: text(row, 'jid'),
    number: textOrNull(row, 'number'),
    lid: textOrNull(row, 'lid'),
    isReal: integer(row, 'is_real') === 1,
    viewedAt: integer(row, 'viewed_at'),
  }
}
