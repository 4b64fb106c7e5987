import { mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Client, createClient } from '@libsql/client'

/**
 * How long a connection waits for another writer's lock before failing with SQLITE_BUSY. Without
 * it, concurrent writers on a local file fail at once instead of taking turns.
 */
const BUSY_TIMEOUT_MS = 5000

/**
 * Opens the database for Node processes (`file:` paths, `:memory:`, or a libSQL server / Turso URL).
 * This is the only db file that imports `node:*`; the repositories and migrations take any `Client`,
 * so a Workers build can hand them one from `@libsql/client/web` instead.
 */
export async function openDatabase(url: string, authToken?: string): Promise<Client> {
  const filePath = localFilePath(url)
  if (filePath !== null) await mkdir(dirname(filePath), { recursive: true })

  // `timeout` applies the busy timeout to every pooled connection, including ones opened later;
  // the PRAGMA below only reaches the connection that runs it.
  const client = createClient({ url, authToken, timeout: BUSY_TIMEOUT_MS })
  if (filePath !== null) {
    try {
      // WAL lets readers (the API) proceed while a writer (the connector) commits.
      await client.execute('PRAGMA journal_mode=WAL')
      await client.execute(`PRAGMA busy_timeout=${BUSY_TIMEOUT_MS}`)
    } catch (error) {
      client.close()
      throw error
    }
  }
  return client
}

/** The filesystem path of a `file:` URL, or null for in-memory and remote databases. */
export function localFilePath(url: string): string | null {
  if (!url.startsWith('file:')) return null
  if (url === 'file::memory:' || url.startsWith('file::memory:?')) return null
  if (url.startsWith('file://')) return fileURLToPath(url.replace(/^file:\/\/localhost\//, 'file:///'))
  return decodeURIComponent(url.slice('file:'.length))
}
