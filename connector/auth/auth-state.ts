import type { Client, InStatement } from '@libsql/client'
import {
  type AuthenticationCreds,
  type AuthenticationState,
  BufferJSON,
  initAuthCreds,
  proto,
  type SignalDataSet,
  type SignalDataTypeMap,
} from '@whiskeysockets/baileys'
import { jsonList, text } from '../../shared/db/repositories/rows.js'
import { authCredsContext, authKeyContext, createValueCipher } from './auth-cipher.js'

export interface DbAuthStateOptions {
  /** 32-byte AES-256-GCM key; when set, creds and key values are encrypted at rest. */
  encryptionKey?: Uint8Array | undefined
}

export interface DbAuthState {
  state: AuthenticationState
  /** Persists `state.creds`; wire it to the socket's `creds.update` event. */
  saveCreds(): Promise<void>
  /**
   * Deletes this session's creds and keys (logout, failed pairing) and resets `state.creds` in place
   * to fresh creds, so a late `saveCreds` cannot bring a dead login back.
   */
  clear(): Promise<void>
  /** Whether creds are stored for this session. */
  hasCreds(): Promise<boolean>
}

type KeyType = keyof SignalDataTypeMap

/**
 * Baileys auth state in libSQL: creds in `wa_auth_creds`, signal keys in `wa_auth_keys`, values
 * serialised with Baileys' BufferJSON (optionally encrypted). Baileys commits a transaction's
 * writes with one `keys.set` and retries it on failure, so each `set` is ONE write batch (atomic)
 * made of upserts and deletes (idempotent).
 */
export async function createDbAuthState(
  client: Client,
  sessionId: string,
  options: DbAuthStateOptions = {},
): Promise<DbAuthState> {
  const cipher = createValueCipher(options.encryptionKey)
  const credsContext = authCredsContext(sessionId)
  const keyContext = (type: string, id: string) => authKeyContext(sessionId, type, id)
  const encode = (value: unknown, context: string) =>
    cipher.seal(JSON.stringify(value, BufferJSON.replacer), context)
  const decode = (stored: string, context: string): unknown =>
    JSON.parse(cipher.open(stored, context), BufferJSON.reviver)

  const stored = await client.execute({
    sql: 'SELECT value FROM wa_auth_creds WHERE session_id = ?',
    args: [sessionId],
  })
  const storedRow = stored.rows[0]
  const creds = storedRow
    ? (decode(text(storedRow, 'value'), credsContext) as AuthenticationCreds)
    : initAuthCreds()

  // Creds writes and wipes run one after another, so the last call made is the last one to land.
  let credsQueue: Promise<unknown> = Promise.resolve()
  const enqueue = (task: () => Promise<void>): Promise<void> => {
    const run = credsQueue.then(task)
    credsQueue = run.catch(() => undefined)
    return run
  }

  const deleteKeys = async () => {
    await client.execute({ sql: 'DELETE FROM wa_auth_keys WHERE session_id = ?', args: [sessionId] })
  }

  return {
    state: {
      creds,
      keys: {
        async get<T extends KeyType>(type: T, ids: string[]) {
          const found: { [id: string]: SignalDataTypeMap[T] } = {}
          if (ids.length === 0) return found
          const result = await client.execute({
            sql: `SELECT id, value FROM wa_auth_keys
                  WHERE session_id = ? AND type = ? AND id IN (SELECT value FROM json_each(?))`,
            args: [sessionId, type, jsonList(ids)],
          })
          for (const row of result.rows) {
            const id = text(row, 'id')
            const value = decode(text(row, 'value'), keyContext(type, id))
            found[id] = (
              type === 'app-state-sync-key'
                ? proto.Message.AppStateSyncKeyData.fromObject(value as object)
                : value
            ) as SignalDataTypeMap[T]
          }
          return found
        },

        async set(data: SignalDataSet) {
          const statements: InStatement[] = []
          for (const [type, entries] of Object.entries(data)) {
            const upserts: [string, string][] = []
            const deletes: string[] = []
            for (const [id, value] of Object.entries(entries ?? {})) {
              if (value === null || value === undefined) deletes.push(id)
              else upserts.push([id, encode(value, keyContext(type, id))])
            }
            if (upserts.length > 0) {
              statements.push({
                sql: `INSERT INTO wa_auth_keys (session_id, type, id, value)
                      SELECT ?, ?, r.value ->> 0, r.value ->> 1 FROM json_each(?) AS r WHERE true
                      ON CONFLICT (session_id, type, id) DO UPDATE SET value = excluded.value`,
                args: [sessionId, type, jsonList(upserts)],
              })
            }
            if (deletes.length > 0) {
              statements.push({
                sql: `DELETE FROM wa_auth_keys
                      WHERE session_id = ? AND type = ? AND id IN (SELECT value FROM json_each(?))`,
                args: [sessionId, type, jsonList(deletes)],
              })
            }
          }
          if (statements.length > 0) await client.batch(statements, 'write')
        },

        clear: deleteKeys,
      },
    },

    saveCreds: () =>
      enqueue(async () => {
        await client.execute({
          sql: `INSERT INTO wa_auth_creds (session_id, value, updated_at) VALUES (?, ?, ?)
                ON CONFLICT (session_id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
          // Encoded when the write runs, not when it was queued: the newest creds always win.
          args: [sessionId, encode(creds, credsContext), Date.now()],
        })
      }),

    clear: () =>
      enqueue(async () => {
        await client.batch(
          [
            { sql: 'DELETE FROM wa_auth_creds WHERE session_id = ?', args: [sessionId] },
            { sql: 'DELETE FROM wa_auth_keys WHERE session_id = ?', args: [sessionId] },
          ],
          'write',
        )
        resetInPlace(creds)
      }),

    async hasCreds() {
      const result = await client.execute({
        sql: 'SELECT 1 FROM wa_auth_creds WHERE session_id = ?',
        args: [sessionId],
      })
      return result.rows.length > 0
    },
  }
}

/** The socket and the caller hold this very object, so it is emptied and refilled, not replaced. */
function resetInPlace(creds: AuthenticationCreds): void {
  for (const key of Object.keys(creds)) Reflect.deleteProperty(creds, key)
  Object.assign(creds, initAuthCreds())
}
