import type { Client, Row } from '@libsql/client'
import type { UploadRecord, UploadsRepo } from '../types.js'
import { integer, text } from './rows.js'

export function createUploadsRepo(client: Client): UploadsRepo {
  return {
    async insert(upload) {
      await client.execute({
        sql: 'INSERT INTO uploads (filename, kind, mime, size, created_at, verified) VALUES (?, ?, ?, ?, ?, ?)',
        args: [
          upload.filename,
          upload.kind,
          upload.mime,
          upload.size,
          upload.createdAt,
          upload.verified === false ? 0 : 1,
        ],
      })
    },

    async get(filename) {
      const result = await client.execute({
        sql: 'SELECT * FROM uploads WHERE filename = ?',
        args: [filename],
      })
      const row = result.rows[0]
      return row ? toUpload(row) : null
    },

    async delete(filename) {
      const result = await client.execute({ sql: 'DELETE FROM uploads WHERE filename = ?', args: [filename] })
      return result.rowsAffected > 0
    },

    async markVerified(filename, found) {
      const result = await client.execute({
        sql: 'UPDATE uploads SET mime = ?, size = ?, verified = 1 WHERE filename = ?',
        args: [found.mime, found.size, filename],
      })
      return result.rowsAffected > 0
    },

    async deleteUnverified(filename) {
      // Conditional, so a send that checked the same file a moment earlier and found it good keeps it.
      const result = await client.execute({
        sql: `DELETE FROM uploads AS u WHERE u.filename = ? AND u.verified = 0 AND ${UNREFERENCED}`,
        args: [filename],
      })
      return result.rowsAffected > 0
    },

    async listUnreferenced(createdBefore, { after, limit }) {
      // Walks the primary key; the reference check uses the statuses' media index.
      const result = await client.execute({
        sql: `SELECT u.* FROM uploads u
              WHERE u.filename > ? AND u.created_at <= ? AND ${UNREFERENCED}
              ORDER BY u.filename LIMIT ?`,
        args: [after ?? '', createdBefore, limit],
      })
      return result.rows.map(toUpload)
    },

    async deleteIfUnreferenced(filename, createdBefore) {
      const result = await client.execute({
        sql: `DELETE FROM uploads AS u WHERE u.filename = ? AND u.created_at <= ? AND ${UNREFERENCED}`,
        args: [filename, createdBefore],
      })
      return result.rowsAffected > 0
    },
  }
}

/** No status, whatever its state (a pending send included), uses the upload `u`. */
const UNREFERENCED = 'NOT EXISTS (SELECT 1 FROM statuses s WHERE s.media_filename = u.filename)'

function toUpload(row: Row): UploadRecord {
  return {
    filename: text(row, 'filename'),
    kind: text(row, 'kind') as UploadRecord['kind'],
    mime: text(row, 'mime'),
    size: integer(row, 'size'),
    createdAt: integer(row, 'created_at'),
    verified: row.verified === undefined ? true : integer(row, 'verified') === 1,
  }
}
