import type { Client, InStatement, Row } from '@libsql/client'
import type { ViewerRecord, ViewersRepo } from '../types.js'
import { integer, jsonList, text, textOrNull } from './rows.js'

/*
 * Receipts arrive in bursts of thousands, so a whole array is written as ONE batch (one write
 * transaction) whatever its length, with two statements per status it touches:
 *  1. find the rows that will not be inserted: the viewer is already recorded (the first view
 *     wins), or the status no longer exists (deleted while its receipts were queued; recording
 *     them would leave rows nothing ever deletes);
 *  2. insert the rest.
 * Both run in the same transaction, so the answer of (1) is exactly what (2) skips. Asking for the
 * skipped rows rather than `RETURNING` the inserted ones keeps the common case (all new) cheap:
 * nothing comes back. Grouping by status binds the session and status once per statement instead
 * of extracting them from every JSON element, and checks the status once instead of per row.
 * ?1 session id, ?2 status id, ?3 JSON array of the viewers' JIDs (1) or of their rows (2), each
 * row [jid, number, lid, isReal (0/1), viewedAt], in the same order.
 */
/** The order of `ViewersRepo.list` (the ORDER BY below), for lists kept in memory: first view first, then by JID. */
export const byViewOrder = (a: ViewerRecord, b: ViewerRecord): number =>
  a.viewedAt - b.viewedAt || (a.jid < b.jid ? -1 : a.jid > b.jid ? 1 : 0)

const STATUS_EXISTS = 'EXISTS (SELECT 1 FROM statuses s WHERE s.session_id = ?1 AND s.id = ?2)'

const FIND_SKIPPED = `SELECT r.key AS position FROM json_each(?3) AS r
  WHERE NOT ${STATUS_EXISTS}
     OR EXISTS (SELECT 1 FROM status_viewers v
                WHERE v.session_id = ?1 AND v.status_id = ?2 AND v.jid = r.value)`

/** Tells readers the session's viewers changed (see `status_versions` in migrations.ts). ?1 session id. */
const BUMP_VERSION = `INSERT INTO status_versions (session_id, version) VALUES (?1, 1)
  ON CONFLICT (session_id) DO UPDATE SET version = version + 1`

// `WHERE` is required before `ON CONFLICT` in INSERT … SELECT (SQLite's parsing rule).
const INSERT_NEW = `INSERT INTO status_viewers (session_id, status_id, jid, number, lid, is_real, viewed_at)
  SELECT ?1, ?2, r.value ->> 0, r.value ->> 1, r.value ->> 2, r.value ->> 3, r.value ->> 4
  FROM json_each(?3) AS r
  WHERE ${STATUS_EXISTS}
  ON CONFLICT (session_id, status_id, jid) DO NOTHING`

export function createViewersRepo(client: Client): ViewersRepo {
  return {
    async recordMany(views) {
      const { unique, groups } = earliestViewPerViewer(views)
      if (unique.length === 0) return []
      const statements: InStatement[] = []
      for (const { sessionId, statusId, positions } of groups) {
        const jids = jsonList(positions.map((position) => (unique[position] as ViewerRecord).jid))
        const rows = jsonList(
          positions.map((position) => {
            const v = unique[position] as ViewerRecord
            return [v.jid, v.number, v.lid, v.isReal ? 1 : 0, v.viewedAt]
          }),
        )
        statements.push({ sql: FIND_SKIPPED, args: [sessionId, statusId, jids] })
        statements.push({ sql: INSERT_NEW, args: [sessionId, statusId, rows] })
      }
      // After the pairs above, so their results keep their positions; once per session.
      for (const sessionId of new Set(groups.map((group) => group.sessionId))) {
        statements.push({ sql: BUMP_VERSION, args: [sessionId] })
      }
      const results = await client.batch(statements, 'write')
      const skipped = new Set<number>()
      groups.forEach(({ positions }, index) => {
        for (const row of results[index * 2]?.rows ?? []) {
          skipped.add(positions[integer(row, 'position')] as number)
        }
      })
      return skipped.size ? unique.filter((_, position) => !skipped.has(position)) : unique
    },

    async list(sessionId, statusId) {
      const result = await client.execute({
        sql: `SELECT * FROM status_viewers WHERE session_id = ? AND status_id = ?
              ORDER BY viewed_at, jid`,
        args: [sessionId, statusId],
      })
      return result.rows.map(toViewer)
    },

    async listForStatus(sessionId, statusId) {
      // One round trip: the status row decides found / not found, the join brings its viewers
      // (one row of NULLs when it has none). Only the columns a viewer needs: the client builds an
      // object per row and column, which is most of a large list's cost.
      const result = await client.execute({
        sql: `SELECT v.jid, v.number, v.lid, v.is_real, v.viewed_at
              FROM statuses s LEFT JOIN status_viewers v ON v.session_id = s.session_id AND v.status_id = s.id
              WHERE s.session_id = ? AND s.id = ?
              ORDER BY v.viewed_at, v.jid`,
        args: [sessionId, statusId],
      })
      if (result.rows.length === 0) return null
      if (result.rows.length === 1 && result.rows[0]?.jid === null) return []
      return result.rows.map((row) => ({
        sessionId,
        statusId,
        jid: text(row, 'jid'),
        number: textOrNull(row, 'number'),
        lid: textOrNull(row, 'lid'),
        isReal: integer(row, 'is_real') === 1,
        viewedAt: integer(row, 'viewed_at'),
      }))
    },

    async listPage(sessionId, statusId, afterJid, limit) {
      // Walks the primary key (session, status, jid): each page costs its own rows only.
      const result = await client.execute({
        sql: `SELECT * FROM status_viewers WHERE session_id = ? AND status_id = ? AND jid > ?
              ORDER BY jid LIMIT ?`,
        args: [sessionId, statusId, afterJid ?? '', limit],
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

/** The views of one status, as positions in `unique`. */
interface StatusGroup {
  sessionId: string
  statusId: string
  positions: number[]
  /** jid → its position in `unique`. */
  byJid: Map<string, number>
}

/**
 * One entry per (session, status, viewer), in first-seen order, keeping the earliest view; grouped
 * by status. Nested maps rather than a joined key: no string is built per view.
 */
function earliestViewPerViewer(views: readonly ViewerRecord[]): {
  unique: ViewerRecord[]
  groups: StatusGroup[]
} {
  const unique: ViewerRecord[] = []
  const groups: StatusGroup[] = []
  const bySession = new Map<string, Map<string, StatusGroup>>()
  for (const view of views) {
    let byStatus = bySession.get(view.sessionId)
    if (!byStatus) {
      byStatus = new Map()
      bySession.set(view.sessionId, byStatus)
    }
    let group = byStatus.get(view.statusId)
    if (!group) {
      group = { sessionId: view.sessionId, statusId: view.statusId, positions: [], byJid: new Map() }
      byStatus.set(view.statusId, group)
      groups.push(group)
    }
    const seen = group.byJid.get(view.jid)
    if (seen === undefined) {
      group.byJid.set(view.jid, unique.length)
      group.positions.push(unique.length)
      unique.push(view)
    } else if (view.viewedAt < (unique[seen] as ViewerRecord).viewedAt) {
      unique[seen] = view
    }
  }
  return { unique, groups }
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
