import type { Client, InStatement, Row } from '@libsql/client'
import { AppError } from '../../errors.js'
import type { StatusState, StatusType } from '../../schemas.js'
import type { NewStatus, StatusesRepo, StatusPatch, StatusRecord } from '../types.js'
import { integer, integerOrNull, setClause, text, textOrNull } from './rows.js'
import { createStatusIdClock, type StatusIdClock } from './status-id-clock.js'

const PATCH_COLUMNS = {
  waMessageId: 'wa_message_id',
  state: 'state',
  error: 'error',
  contactCount: 'contact_count',
} as const satisfies { readonly [K in keyof StatusPatch]-?: string }

/** Only reached if other writers keep taking the ids this process picks; each retry jumps past them. */
const MAX_ID_ATTEMPTS = 10

/** Statements that delete the statuses matched by `where` and their viewers, as one write batch. */
/**
 * Copies what analytics keep of the sent statuses expired at `now` (and their viewers) into the
 * archive, in the batch that then deletes them. A status archived before is left as it is.
 */
function archiveExpired(now: number): InStatement[] {
  return [
    {
      sql: `INSERT OR IGNORE INTO status_archive (session_id, id, type, created_at, target_numbers)
            SELECT session_id, id, type, created_at, target_numbers FROM statuses
            WHERE state = 'sent' AND expires_at <= ?`,
      args: [now],
    },
    {
      sql: `INSERT OR IGNORE INTO viewer_archive (session_id, status_id, jid, number, viewed_at)
            SELECT v.session_id, v.status_id, v.jid, v.number, v.viewed_at
            FROM statuses s JOIN status_viewers v ON v.session_id = s.session_id AND v.status_id = s.id
            WHERE s.state = 'sent' AND s.expires_at <= ?`,
      args: [now],
    },
  ]
}

function deleteWithViewers(where: string, args: (string | number)[]): InStatement[] {
  return [
    {
      sql: `DELETE FROM status_viewers WHERE (session_id, status_id) IN
              (SELECT session_id, id FROM statuses WHERE ${where})`,
      args,
    },
    { sql: `DELETE FROM statuses WHERE ${where} RETURNING *`, args },
  ]
}

export function createStatusesRepo(
  client: Client,
  clock: StatusIdClock = createStatusIdClock(),
): StatusesRepo {
  async function deleteMatching(
    where: string,
    args: (string | number)[],
    extra: InStatement[] = [],
  ): Promise<StatusRecord[]> {
    const results = await client.batch([...extra, ...deleteWithViewers(where, args)], 'write')
    return (results.at(-1)?.rows ?? []).map(toStatus)
  }

  async function get(sessionId: string, id: string): Promise<StatusRecord | null> {
    const result = await client.execute({
      sql: 'SELECT * FROM statuses WHERE session_id = ? AND id = ?',
      args: [sessionId, id],
    })
    const row = result.rows[0]
    return row ? toStatus(row) : null
  }

  return {
    get,

    async insert(status) {
      for (let attempt = 0; attempt < MAX_ID_ATTEMPTS; attempt++) {
        const inserted = await tryInsert(client, String(clock.next()), status)
        if (inserted) return inserted
        // Another writer holds this id: continue after the newest id of the session.
        clock.skipPast(await newestId(client, status.sessionId))
      }
      throw new AppError('internal', 'Could not allocate a status id')
    },

    async getByWaMessageId(sessionId, waMessageId) {
      const result = await client.execute({
        sql: 'SELECT * FROM statuses WHERE session_id = ? AND wa_message_id = ? LIMIT 1',
        args: [sessionId, waMessageId],
      })
      const row = result.rows[0]
      return row ? toStatus(row) : null
    },

    async listActive(sessionId, now) {
      const result = await client.execute({
        sql: `SELECT s.*, (SELECT COUNT(*) FROM status_viewers v
                           WHERE v.session_id = s.session_id AND v.status_id = s.id) AS viewer_count
              FROM statuses s
              WHERE s.session_id = ? AND s.expires_at > ?
              ORDER BY s.created_at DESC, s.id DESC`,
        args: [sessionId, now],
      })
      return result.rows.map((row) => ({ ...toStatus(row), viewerCount: integer(row, 'viewer_count') }))
    },

    async update(sessionId, id, patch) {
      const { assignments, args } = setClause(patch, PATCH_COLUMNS)
      if (assignments.length === 0) return get(sessionId, id)
      const result = await client.execute({
        sql: `UPDATE statuses SET ${assignments.join(', ')} WHERE session_id = ? AND id = ? RETURNING *`,
        args: [...args, sessionId, id],
      })
      const row = result.rows[0]
      return row ? toStatus(row) : null
    },

    async delete(sessionId, id) {
      const [deleted] = await deleteMatching('session_id = ? AND id = ?', [sessionId, id])
      return deleted ?? null
    },

    deleteAllForSession(sessionId) {
      // The session goes with all its data, its history included.
      return deleteMatching(
        'session_id = ?',
        [sessionId],
        [
          { sql: 'DELETE FROM viewer_archive WHERE session_id = ?', args: [sessionId] },
          { sql: 'DELETE FROM status_archive WHERE session_id = ?', args: [sessionId] },
        ],
      )
    },

    deleteExpired(now, options = {}) {
      return deleteMatching('expires_at <= ?', [now], options.archive ? archiveExpired(now) : [])
    },

    async pruneArchive(before) {
      await client.batch(
        [
          {
            sql: `DELETE FROM viewer_archive WHERE (session_id, status_id) IN
                    (SELECT session_id, id FROM status_archive WHERE created_at < ?)`,
            args: [before],
          },
          { sql: 'DELETE FROM status_archive WHERE created_at < ?', args: [before] },
        ],
        'write',
      )
    },

    async failStalePending(before, error) {
      const result = await client.execute({
        // A big audience's send stays pending while its job runs, however long that takes.
        sql: `UPDATE statuses SET state = 'failed', error = ?
              WHERE state = 'pending' AND created_at < ?
                AND NOT EXISTS (SELECT 1 FROM status_jobs j
                                WHERE j.session_id = statuses.session_id AND j.status_id = statuses.id
                                  AND j.state = 'running')`,
        args: [error, before],
      })
      return result.rowsAffected
    },

    async isMediaReferenced(filename) {
      const result = await client.execute({
        sql: 'SELECT 1 FROM statuses WHERE media_filename = ? LIMIT 1',
        args: [filename],
      })
      return result.rows.length > 0
    },

    async changeVersion(sessionId) {
      const result = await client.execute({
        sql: 'SELECT version FROM status_versions WHERE session_id = ?',
        args: [sessionId],
      })
      const row = result.rows[0]
      return row ? integer(row, 'version') : 0
    },

    async stats() {
      const [totals, perSession] = await client.batch(
        [
          // The last sent one through the state index; COUNT(*) walks the smallest index.
          `SELECT COUNT(*) AS total,
                  (SELECT MAX(created_at) FROM statuses WHERE state = 'sent') AS last_sent_at
           FROM statuses`,
          'SELECT session_id, COUNT(*) AS total FROM statuses GROUP BY session_id',
        ],
        'read',
      )
      const totalsRow = totals?.rows[0]
      return {
        total: totalsRow ? integer(totalsRow, 'total') : 0,
        lastSentAt: totalsRow ? integerOrNull(totalsRow, 'last_sent_at') : null,
        perSession: Object.fromEntries(
          (perSession?.rows ?? []).map((row) => [text(row, 'session_id'), integer(row, 'total')]),
        ),
      }
    },
  }
}

/** Inserts under `id`; null when a row already holds that id. */
async function tryInsert(client: Client, id: string, status: NewStatus): Promise<StatusRecord | null> {
  const result = await client.execute({
    sql: `INSERT INTO statuses (session_id, id, type, content, caption, background_color, font, target_numbers,
            contact_count, wa_message_id, state, error, media_filename, created_at, expires_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
          ON CONFLICT (session_id, id) DO NOTHING
          RETURNING *`,
    args: [
      status.sessionId,
      id,
      status.type,
      status.content,
      status.caption,
      status.backgroundColor,
      status.font,
      status.targetNumbers,
      status.contactCount,
      status.waMessageId,
      status.state,
      status.error,
      status.mediaFilename,
      status.createdAt,
      status.expiresAt,
    ],
  })
  const row = result.rows[0]
  return row ? toStatus(row) : null
}

/**
 * The session's largest id. Ids are equal-length digit strings (13 digits until the year 2286), so
 * text order is numeric order and MAX walks the primary key instead of scanning.
 */
async function newestId(client: Client, sessionId: string): Promise<number> {
  const result = await client.execute({
    sql: 'SELECT MAX(id) AS id FROM statuses WHERE session_id = ?',
    args: [sessionId],
  })
  const id = result.rows[0]?.id
  return typeof id === 'string' ? Number(id) : 0
}

function toStatus(row: Row): StatusRecord {
  return {
    sessionId: text(row, 'session_id'),
    id: text(row, 'id'),
    type: text(row, 'type') as StatusType,
    content: text(row, 'content'),
    caption: text(row, 'caption'),
    backgroundColor: textOrNull(row, 'background_color'),
    font: integerOrNull(row, 'font'),
    targetNumbers: text(row, 'target_numbers'),
    contactCount: integer(row, 'contact_count'),
    waMessageId: textOrNull(row, 'wa_message_id'),
    state: text(row, 'state') as StatusState,
    error: textOrNull(row, 'error'),
    mediaFilename: textOrNull(row, 'media_filename'),
    createdAt: integer(row, 'created_at'),
    expiresAt: integer(row, 'expires_at'),
  }
}
