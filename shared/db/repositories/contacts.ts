import type { Client, Row } from '@libsql/client'
import type { ContactRecord, ContactsRepo } from '../types.js'
import { jsonList, text, textOrNull } from './rows.js'

const toContact = (row: Row): ContactRecord => ({
  number: text(row, 'number'),
  name: textOrNull(row, 'name'),
})

export function createContactsRepo(client: Client): ContactsRepo {
  return {
    async upsertMany(sessionId, contacts, at) {
      if (contacts.length === 0) return
      await client.execute({
        sql: `INSERT INTO contacts (session_id, number, name, updated_at)
              SELECT ?, value ->> '$[0]', value ->> '$[1]', ? FROM json_each(?) WHERE true
              ON CONFLICT (session_id, number) DO UPDATE
                SET name = COALESCE(excluded.name, contacts.name), updated_at = excluded.updated_at`,
        args: [sessionId, at, jsonList(contacts.map((c) => [c.number, c.name]))],
      })
    },

    async list(sessionId) {
      const result = await client.execute({
        sql: 'SELECT number, name FROM contacts WHERE session_id = ? ORDER BY number',
        args: [sessionId],
      })
      return result.rows.map(toContact)
    },

    async deleteAllForSession(sessionId) {
      await client.execute({ sql: 'DELETE FROM contacts WHERE session_id = ?', args: [sessionId] })
    },
  }
}
