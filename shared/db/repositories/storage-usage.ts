import type { Client } from '@libsql/client'
import type { Repositories, StorageUsage } from '../types.js'
import { integer, text } from './rows.js'

/*
 * One row per session id found in any table, so data left behind by a deleted session still shows
 * up. Byte counts are of the stored text as bytes (CAST AS BLOB), creds included.
 */
const USAGE_BY_SESSION = `
  SELECT session_id, SUM(auth_keys) AS auth_keys, SUM(auth_bytes) AS auth_bytes,
         SUM(statuses) AS statuses, SUM(viewers) AS viewers
  FROM (
    SELECT id AS session_id, 0 AS auth_keys, 0 AS auth_bytes, 0 AS statuses, 0 AS viewers FROM sessions
    UNION ALL
    SELECT session_id, COUNT(*), SUM(LENGTH(CAST(value AS BLOB))), 0, 0 FROM wa_auth_keys GROUP BY session_id
    UNION ALL
    SELECT session_id, 0, LENGTH(CAST(value AS BLOB)), 0, 0 FROM wa_auth_creds
    UNION ALL
    SELECT session_id, 0, 0, COUNT(*), 0 FROM statuses GROUP BY session_id
    UNION ALL
    SELECT session_id, 0, 0, 0, COUNT(*) FROM status_viewers GROUP BY session_id
  )
  GROUP BY session_id
  ORDER BY session_id`

export function createStorageUsage(client: Client): Repositories['storageUsage'] {
  return async () => {
    const result = await client.execute(USAGE_BY_SESSION)
    const sessions: StorageUsage[] = result.rows.map((row) => ({
      sessionId: text(row, 'session_id'),
      authKeys: integer(row, 'auth_keys'),
      authBytes: integer(row, 'auth_bytes'),
      statuses: integer(row, 'statuses'),
      viewers: integer(row, 'viewers'),
    }))
    return { databaseBytes: await databaseBytes(client), sessions }
  }
}

/** Size of the database file; null where the server does not answer these PRAGMAs (some hosted libSQL). */
async function databaseBytes(client: Client): Promise<number | null> {
  try {
    const [pages, pageSize] = await Promise.all([
      client.execute('PRAGMA page_count'),
      client.execute('PRAGMA page_size'),
    ])
    const count = pages.rows[0]?.page_count
    const size = pageSize.rows[0]?.page_size
    return typeof count === 'number' && typeof size === 'number' ? count * size : null
  } catch {
    return null
  }
}
