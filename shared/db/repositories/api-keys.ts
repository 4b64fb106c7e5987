import type { Client, Row } from '@libsql/client'
import type { ApiKeyRecord, ApiKeysRepo, KeyScope } from '../types.js'
import { integer, integerOrNull, text, textOrNull } from './rows.js'

const toApiKey = (row: Row): ApiKeyRecord => {
  const sessions = textOrNull(row, 'session_ids')
  return {
    id: text(row, 'id'),
    name: text(row, 'name'),
    keyHash: text(row, 'key_hash'),
    keyPrefix: text(row, 'key_prefix'),
    scopes: JSON.parse(text(row, 'scopes')) as KeyScope[],
    sessionIds: sessions === null ? null : (JSON.parse(sessions) as string[]),
    createdAt: integer(row, 'created_at'),
    lastUsedAt: integerOrNull(row, 'last_used_at'),
    revokedAt: integerOrNull(row, 'revoked_at'),
  }
}

export function createApiKeysRepo(client: Client): ApiKeysRepo {
  return {
    async insert(key) {
      await client.execute({
        sql: `INSERT INTO api_keys (id, name, key_hash, key_prefix, scopes, session_ids, created_at)
              VALUES (?, ?, ?, ?, ?, ?, ?)`,
        args: [
          key.id,
          key.name,
          key.keyHash,
          key.keyPrefix,
          JSON.stringify(key.scopes),
          key.sessionIds === null ? null : JSON.stringify(key.sessionIds),
          key.createdAt,
        ],
      })
    },

    async list() {
      const result = await client.execute('SELECT * FROM api_keys ORDER BY created_at DESC, id DESC')
      return result.rows.map(toApiKey)
    },

    async findByHash(keyHash) {
      const result = await client.execute({
        sql: 'SELECT * FROM api_keys WHERE key_hash = ?',
        args: [keyHash],
      })
      const row = result.rows[0]
      return row ? toApiKey(row) : null
    },

    async revoke(id, at) {
      const result = await client.execute({
        sql: 'UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL',
        args: [at, id],
      })
      return result.rowsAffected === 1
    },

    async touch(id, at) {
      await client.execute({ sql: 'UPDATE api_keys SET last_used_at = ? WHERE id = ?', args: [at, id] })
    },
  }
}
