import type { Client, Row } from '@libsql/client'
import type { CommandLogRecord, CommandLogRepo } from '../types.js'
import { integer, text, textOrNull } from './rows.js'

export function createCommandLogRepo(client: Client): CommandLogRepo {
  return {
    async begin(entry) {
      // One statement decides who runs the command: the insert that wins, or nobody when the id
      // is known (then the earlier record is read back and answered from).
      const inserted = await client.execute({
        sql: `INSERT INTO command_log (id, session_id, name, state, created_at) VALUES (?, ?, ?, 'running', ?)
              ON CONFLICT (id) DO NOTHING`,
        args: [entry.id, entry.sessionId, entry.name, entry.createdAt],
      })
      if (inserted.rowsAffected > 0) return null
      const result = await client.execute({ sql: 'SELECT * FROM command_log WHERE id = ?', args: [entry.id] })
      const row = result.rows[0]
      return row ? toRecord(row) : null
    },

    async finish(id, reply, finishedAt) {
      await client.execute({
        sql: `UPDATE command_log SET state = 'done', reply = ?, finished_at = ? WHERE id = ?`,
        args: [JSON.stringify(reply), finishedAt, id],
      })
    },

    async deleteOlderThan(before) {
      const result = await client.execute({
        sql: 'DELETE FROM command_log WHERE created_at < ?',
        args: [before],
      })
      return result.rowsAffected
    },
  }
}

function toRecord(row: Row): CommandLogRecord {
  const reply = textOrNull(row, 'reply')
  return {
    id: text(row, 'id'),
    sessionId: text(row, 'session_id'),
    name: text(row, 'name'),
    state: text(row, 'state') === 'done' ? 'done' : 'running',
    reply: reply === null ? null : JSON.parse(reply),
    createdAt: integer(row, 'created_at'),
  }
}
