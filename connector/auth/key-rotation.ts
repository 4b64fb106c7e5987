import type { Client, InStatement, Transaction } from '@libsql/client'
import { text } from '../../shared/db/repositories/rows.js'
import { AppError } from '../../shared/errors.js'
import { webhookSecretContext } from '../../shared/security/web-seal.js'
import { authCredsContext, authKeyContext, createValueCipher, type ValueCipher } from './auth-cipher.js'

export interface AuthKeyRotationOptions {
  /** The key the rows are encrypted with now; absent when they are plain. Plain rows are read either way. */
  from?: Uint8Array | undefined
  /** The key to encrypt them with; absent to store them plain. */
  to?: Uint8Array | undefined
  /** Key rows read and rewritten per round trip. */
  batchSize?: number
}

export interface AuthKeyRotationResult {
  /** `wa_auth_creds` rows rewritten (one per linked session). */
  creds: number
  /** `wa_auth_keys` rows rewritten. */
  keys: number
  /** Webhook signing secrets rewritten. */
  webhookSecrets: number
}

type RotatedTable = 'wa_auth_creds' | 'wa_auth_keys' | 'webhooks'

/** A row that cannot be opened with the old key; the message names the table, never a value. */
export class AuthKeyRotationError extends AppError {
  constructor(table: RotatedTable, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause)
    super('internal', `A ${table} row cannot be read with the current key (${reason}); nothing was changed`)
    this.name = 'AuthKeyRotationError'
  }
}

const reseal = (from: ValueCipher, to: ValueCipher, stored: string, context: string, table: RotatedTable) => {
  let plain: string
  try {
    plain = from.open(stored, context)
  } catch (error) {
    throw new AuthKeyRotationError(table, error)
  }
  return to.seal(plain, context)
}

/**
 * Re-encrypts every WhatsApp auth row (`wa_auth_creds`, `wa_auth_keys`) and every webhook signing
 * secret from one key to another, with
 * the same cipher and row contexts as {@link createDbAuthState}: plain → key, key → key, key → plain.
 *
 * Everything happens in one write transaction, so a row the old key cannot open (a wrong key) rolls
 * the whole rotation back and the database stays as it was; there is never a mix of old-key and
 * new-key rows that neither key could fully read. Key rows are read page by page to bound memory.
 * The product must not run on the database meanwhile: it caches keys and would write rows with the
 * old key after the rotation committed.
 */
export async function rotateAuthKey(
  client: Client,
  { from, to, batchSize = 500 }: AuthKeyRotationOptions,
): Promise<AuthKeyRotationResult> {
  const opener = createValueCipher(from)
  const sealer = createValueCipher(to)
  const tx = await client.transaction('write')
  try {
    const result = await rotateIn(tx, opener, sealer, batchSize)
    await tx.commit()
    return result
  } catch (error) {
    await tx.rollback().catch(() => {})
    throw error
  } finally {
    tx.close()
  }
}

async function rotateIn(
  tx: Transaction,
  opener: ValueCipher,
  sealer: ValueCipher,
  batchSize: number,
): Promise<AuthKeyRotationResult> {
  const creds = await tx.execute('SELECT session_id, value FROM wa_auth_creds ORDER BY session_id')
  const credsUpdates: InStatement[] = creds.rows.map((row) => {
    const sessionId = text(row, 'session_id')
    return {
      sql: 'UPDATE wa_auth_creds SET value = ? WHERE session_id = ?',
      args: [
        reseal(opener, sealer, text(row, 'value'), authCredsContext(sessionId), 'wa_auth_creds'),
        sessionId,
      ],
    }
  })
  if (credsUpdates.length > 0) await tx.batch(credsUpdates)

  let keys = 0
  let after: [string, string, string] | null = null
  for (;;) {
    const page = await tx.execute(
      after === null
        ? {
            sql: 'SELECT session_id, type, id, value FROM wa_auth_keys ORDER BY session_id, type, id LIMIT ?',
            args: [batchSize],
          }
        : {
            sql: `SELECT session_id, type, id, value FROM wa_auth_keys
                  WHERE (session_id, type, id) > (?, ?, ?) ORDER BY session_id, type, id LIMIT ?`,
            args: [...after, batchSize],
          },
    )
    if (page.rows.length === 0) break
    const updates: InStatement[] = page.rows.map((row) => {
      const [sessionId, type, id] = [text(row, 'session_id'), text(row, 'type'), text(row, 'id')]
      after = [sessionId, type, id]
      return {
        sql: 'UPDATE wa_auth_keys SET value = ? WHERE session_id = ? AND type = ? AND id = ?',
        args: [
          reseal(opener, sealer, text(row, 'value'), authKeyContext(sessionId, type, id), 'wa_auth_keys'),
          sessionId,
          type,
          id,
        ],
      }
    })
    await tx.batch(updates)
    keys += updates.length
    if (page.rows.length < batchSize) break
  }
  // Webhook signing secrets are sealed with the same key (by the API, in the same format).
  const hooks = await tx.execute('SELECT id, secret FROM webhooks ORDER BY id')
  const hookUpdates: InStatement[] = hooks.rows.map((row) => {
    const id = text(row, 'id')
    return {
      sql: 'UPDATE webhooks SET secret = ? WHERE id = ?',
      args: [reseal(opener, sealer, text(row, 'secret'), webhookSecretContext(id), 'webhooks'), id],
    }
  })
  if (hookUpdates.length > 0) await tx.batch(hookUpdates)
  return { creds: credsUpdates.length, keys, webhookSecrets: hookUpdates.length }
}
