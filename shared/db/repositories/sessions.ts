import type { Client, Row } from '@libsql/client'
import { appError } from '../../errors.js'
import type { AuthMethod, SessionState } from '../../schemas.js'
import type { SessionPatch, SessionRecord, SessionsRepo } from '../types.js'
import { integer, setClause, text, textOrNull } from './rows.js'

const PATCH_COLUMNS = {
  name: 'name',
  authMethod: 'auth_method',
  phoneNumber: 'phone_number',
  state: 'state',
  ownNumber: 'own_number',
  ownJid: 'own_jid',
  ownLid: 'own_lid',
  pairingCode: 'pairing_code',
  qrCode: 'qr_code',
  lastError: 'last_error',
  connectorId: 'connector_id',
} as const satisfies { readonly [K in keyof SessionPatch]-?: string }

export function createSessionsRepo(client: Client): SessionsRepo {
  return {
    async create(record) {
      const createdAt = record.createdAt ?? Date.now()
      // DO NOTHING + RETURNING tells a taken id apart from a db failure without parsing error text.
      const result = await client.execute({
        sql: `INSERT INTO sessions (id, name, auth_method, phone_number, state, own_number, own_jid, own_lid,
                pairing_code, qr_code, last_error, created_at, updated_at)
              VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
              ON CONFLICT (id) DO NOTHING
              RETURNING *`,
        args: [
          record.id,
          record.name,
          record.authMethod,
          record.phoneNumber,
          record.state,
          record.ownNumber,
          record.ownJid,
          record.ownLid,
          record.pairingCode,
          record.qrCode,
          record.lastError,
          createdAt,
          createdAt,
        ],
      })
      const row = result.rows[0]
      if (!row) throw appError('sessionExists')
      return toSession(row)
    },

    async get(id) {
      const result = await client.execute({ sql: 'SELECT * FROM sessions WHERE id = ?', args: [id] })
      const row = result.rows[0]
      return row ? toSession(row) : null
    },

    async list() {
      const result = await client.execute('SELECT * FROM sessions ORDER BY created_at, id')
      return result.rows.map(toSession)
    },

    async update(id, patch) {
      const { assignments, args } = setClause(patch, PATCH_COLUMNS)
      const result = await client.execute({
        sql: `UPDATE sessions SET ${[...assignments, 'updated_at = ?'].join(', ')} WHERE id = ? RETURNING *`,
        args: [...args, Date.now(), id],
      })
      const row = result.rows[0]
      return row ? toSession(row) : null
    },

    async delete(id) {
      const result = await client.execute({ sql: 'DELETE FROM sessions WHERE id = ?', args: [id] })
      return result.rowsAffected > 0
    },
  }
}

function toSession(row: Row): SessionRecord {
  return {
    id: text(row, 'id'),
    name: text(row, 'name'),
    authMethod: text(row, 'auth_method') as AuthMethod,
    phoneNumber: textOrNull(row, 'phone_number'),
    state: text(row, 'state') as SessionState,
    ownNumber: textOrNull(row, 'own_number'),
    ownJid: textOrNull(row, 'own_jid'),
    ownLid: textOrNull(row, 'own_lid'),
    pairingCode: textOrNull(row, 'pairing_code'),
    qrCode: textOrNull(row, 'qr_code'),
    lastError: textOrNull(row, 'last_error'),
    connectorId: row.connector_id === undefined ? null : textOrNull(row, 'connector_id'),
    createdAt: integer(row, 'created_at'),
    updatedAt: integer(row, 'updated_at'),
  }
}
