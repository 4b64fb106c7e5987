import type { Client, Row } from '@libsql/client'
import type { AudienceRecord, AudiencesRepo } from '../types.js'
import { integer, text } from './rows.js'

const toAudience = (row: Row): AudienceRecord => ({
  sessionId: text(row, 'session_id'),
  id: text(row, 'id'),
  name: text(row, 'name'),
  numbers: text(row, 'numbers').split(',').filter(Boolean),
  createdAt: integer(row, 'created_at'),
})

export function createAudiencesRepo(client: Client): AudiencesRepo {
  return {
    async insert(audience) {
      await client.execute({
        sql: 'INSERT INTO audiences (session_id, id, name, numbers, created_at) VALUES (?, ?, ?, ?, ?)',
        args: [
          audience.sessionId,
          audience.id,
          audience.name,
          audience.numbers.join(','),
          audience.createdAt,
        ],
      })
    },

    async get(sessionId, id) {
      const result = await client.execute({
        sql: 'SELECT * FROM audiences WHERE session_id = ? AND id = ?',
        args: [sessionId, id],
      })
      const row = result.rows[0]
      return row ? toAudience(row) : null
    },

    async list(sessionId) {
      const result = await client.execute({
        sql: 'SELECT * FROM audiences WHERE session_id = ? ORDER BY created_at DESC, id DESC',
        args: [sessionId],
      })
      return result.rows.map(toAudience)
    },

    async delete(sessionId, id) {
      const result = await client.execute({
        sql: 'DELETE FROM audiences WHERE session_id = ? AND id = ?',
        args: [sessionId, id],
      })
      return result.rowsAffected > 0
    },

    async deleteAllForSession(sessionId) {
      await client.execute({ sql: 'DELETE FROM audiences WHERE session_id = ?', args: [sessionId] })
    },
  }
}
