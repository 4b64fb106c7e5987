import type { Client, Row } from '@libsql/client'
import type { ScheduledStatusesRepo, ScheduledStatusRecord, ScheduleRepeat, ScheduleState } from '../types.js'
import { integer, setClause, text, textOrNull } from './rows.js'

const toScheduled = (row: Row): ScheduledStatusRecord => ({
  sessionId: text(row, 'session_id'),
  id: text(row, 'id'),
  sendAt: integer(row, 'send_at'),
  request: JSON.parse(text(row, 'request')) as Record<string, unknown>,
  repeat: text(row, 'repeat') as ScheduleRepeat,
  state: text(row, 'state') as ScheduleState,
  lastStatusId: textOrNull(row, 'last_status_id'),
  lastError: textOrNull(row, 'last_error'),
  sentCount: integer(row, 'sent_count'),
  createdAt: integer(row, 'created_at'),
  updatedAt: integer(row, 'updated_at'),
})

type Changes = Partial<Pick<ScheduledStatusRecord, 'sendAt' | 'lastStatusId' | 'lastError' | 'sentCount'>>

const CHANGE_COLUMNS: { readonly [K in keyof Changes]-?: string } = {
  sendAt: 'send_at',
  lastStatusId: 'last_status_id',
  lastError: 'last_error',
  sentCount: 'sent_count',
}

export function createScheduledStatusesRepo(
  client: Client,
  clock: () => number = Date.now,
): ScheduledStatusesRepo {
  return {
    async insert(record) {
      await client.execute({
        sql: `INSERT INTO scheduled_statuses
                (session_id, id, send_at, request, repeat, state, last_status_id, last_error, sent_count, created_at, updated_at)
              VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        args: [
          record.sessionId,
          record.id,
          record.sendAt,
          JSON.stringify(record.request),
          record.repeat,
          record.state,
          record.lastStatusId,
          record.lastError,
          record.sentCount,
          record.createdAt,
          record.updatedAt,
        ],
      })
    },

    async list(sessionId) {
      const result = await client.execute({
        sql: 'SELECT * FROM scheduled_statuses WHERE session_id = ? ORDER BY send_at, id',
        args: [sessionId],
      })
      return result.rows.map(toScheduled)
    },

    async get(sessionId, id) {
      const result = await client.execute({
        sql: 'SELECT * FROM scheduled_statuses WHERE session_id = ? AND id = ?',
        args: [sessionId, id],
      })
      const row = result.rows[0]
      return row ? toScheduled(row) : null
    },

    async due(now, limit) {
      const result = await client.execute({
        sql: `SELECT * FROM scheduled_statuses WHERE state = 'scheduled' AND send_at <= ?
              ORDER BY send_at, id LIMIT ?`,
        args: [now, limit],
      })
      return result.rows.map(toScheduled)
    },

    async nextSendAt() {
      const result = await client.execute(
        "SELECT MIN(send_at) AS next FROM scheduled_statuses WHERE state = 'scheduled'",
      )
      const value = result.rows[0]?.next
      return value === null || value === undefined ? null : Number(value)
    },

    async transition(sessionId, id, from, to, changes = {}) {
      const { assignments, args } = setClause(changes, CHANGE_COLUMNS)
      const result = await client.execute({
        sql: `UPDATE scheduled_statuses SET ${['state = ?', 'updated_at = ?', ...assignments].join(', ')}
              WHERE session_id = ? AND id = ? AND state = ?`,
        args: [to, clock(), ...args, sessionId, id, from],
      })
      return result.rowsAffected === 1
    },

    async stuck(before) {
      const result = await client.execute({
        sql: "SELECT * FROM scheduled_statuses WHERE state = 'sending' AND updated_at < ?",
        args: [before],
      })
      return result.rows.map(toScheduled)
    },

    async deleteAllForSession(sessionId) {
      await client.execute({ sql: 'DELETE FROM scheduled_statuses WHERE session_id = ?', args: [sessionId] })
    },
  }
}
