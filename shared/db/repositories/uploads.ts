import type { Client, Row } from '@libsql/client'
import type { UploadRecord, UploadsRepo } from '../types.js'
import { integer, text } from './rows.js'

export function createUploadsRepo(client: Client): UploadsRepo {
  return {
    async insert(upload) {
      await client.execute({
        sql: 'INSERT INTO uploads (filename, kind, mime, size, created_at) VALUES (?, ?, ?, ?, ?)',
        args: [upload.filename, upload.kind, upload.mime, upload.size, upload.createdAt],
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
  }
}

function toUpload(row: Row): UploadRecord {
  return {
    filename: text(row, 'filename'),
    kind: text(row, 'kind') as UploadRecord['kind'],
    mime: text(row, 'mime'),
    size: integer(row, 'size'),
    createdAt: integer(row, 'created_at'),
  }
}
