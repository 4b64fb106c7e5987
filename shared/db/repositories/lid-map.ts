import type { Client } from '@libsql/client'
import type { LidMapRepo } from '../types.js'
import { jsonList, text } from './rows.js'

export function createLidMapRepo(client: Client): LidMapRepo {
  return {
    async upsertMany(sessionId, pairs) {
      if (pairs.length === 0) return
      // A LID maps to one phone number; the latest pair learned replaces an older one.
      await client.execute({
        sql: `INSERT INTO lid_map (session_id, lid, pn)
              SELECT ?, r.value ->> 0, r.value ->> 1 FROM json_each(?) AS r WHERE true
              ON CONFLICT (session_id, lid) DO UPDATE SET pn = excluded.pn`,
        args: [sessionId, jsonList(pairs.map((pair) => [pair.lid, pair.pn]))],
      })
    },

    async getPnForLids(sessionId, lids) {
      if (lids.length === 0) return new Map()
      const result = await client.execute({
        sql: 'SELECT lid, pn FROM lid_map WHERE session_id = ? AND lid IN (SELECT value FROM json_each(?))',
        args: [sessionId, jsonList(lids)],
      })
      return new Map(result.rows.map((row) => [text(row, 'lid'), text(row, 'pn')]))
    },

    async deleteForSession(sessionId) {
      await client.execute({ sql: 'DELETE FROM lid_map WHERE session_id = ?', args: [sessionId] })
    },
  }
}
