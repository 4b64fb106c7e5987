import type { Client, Row } from '@libsql/client'
import type { StatusJobState } from '../../events.js'
import type { StatusJobChunk, StatusJobRecord, StatusJobsRepo } from '../types.js'
import { integer, integerOrNull, text, textOrNull } from './rows.js'

const toJob = (row: Row): StatusJobRecord => ({
  sessionId: text(row, 'session_id'),
  id: text(row, 'id'),
  statusId: text(row, 'status_id'),
  waMessageId: text(row, 'wa_message_id'),
  state: text(row, 'state') as StatusJobState,
  chunkSize: integer(row, 'chunk_size'),
  recipientsTotal: integer(row, 'recipients_total'),
  chunks: JSON.parse(text(row, 'chunks')) as StatusJobChunk[],
  error: textOrNull(row, 'error'),
  createdAt: integer(row, 'created_at'),
  updatedAt: integer(row, 'updated_at'),
  finishedAt: integerOrNull(row, 'finished_at'),
})

export function createStatusJobsRepo(client: Client): StatusJobsRepo {
  return {
    async insert(record) {
      await client.execute({
        sql: `INSERT INTO status_jobs
                (id, session_id, status_id, wa_message_id, state, chunk_size, recipients_total, chunks,
                 error, created_at, updated_at, finished_at)
              VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        args: [
          record.id,
          record.sessionId,
          record.statusId,
          record.waMessageId,
          record.state,
          record.chunkSize,
          record.recipientsTotal,
          JSON.stringify(record.chunks),
          record.error,
          record.createdAt,
          record.updatedAt,
          record.finishedAt,
        ],
      })
    },

    async get(id) {
      const result = await client.execute({ sql: 'SELECT * FROM status_jobs WHERE id = ?', args: [id] })
      const row = result.rows[0]
      return row ? toJob(row) : null
    },

    async running(sessionId) {
      const result = await client.execute({
        sql: `SELECT * FROM status_jobs WHERE session_id = ? AND state = 'running' ORDER BY created_at, id`,
        args: [sessionId],
      })
      return result.rows.map(toJob)
    },

    async save(record) {
      const result = await client.execute({
        sql: `UPDATE status_jobs SET state = ?, chunks = ?, error = ?, updated_at = ?, finished_at = ?
              WHERE id = ?`,
        args: [
          record.state,
          JSON.stringify(record.chunks),
          record.error,
          record.updatedAt,
          record.finishedAt,
          record.id,
        ],
      })
      return result.rowsAffected === 1
    },

    async deleteAllForSession(sessionId) {
      await client.execute({ sql: 'DELETE FROM status_jobs WHERE session_id = ?', args: [sessionId] })
    },
  }
}
