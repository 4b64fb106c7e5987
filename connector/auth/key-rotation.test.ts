import { randomBytes } from 'node:crypto'
import { proto, type SignalDataSet } from '@whiskeysockets/baileys'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openTestDatabase, type TestDatabase } from '../../shared/db/test-support.js'
import { sealWithWebCrypto, webhookSecretContext } from '../../shared/security/web-seal.js'
import { createValueCipher } from './auth-cipher.js'
import { createDbAuthState } from './auth-state.js'
import { AuthKeyRotationError, rotateAuthKey } from './key-rotation.js'

const keyA = randomBytes(32)
const keyB = randomBytes(32)

const sampleKeys = (n: number): SignalDataSet => ({
  'pre-key': Object.fromEntries(
    Array.from({ length: n }, (_, i) => [
      String(i + 1),
      { public: randomBytes(32), private: randomBytes(32) },
    ]),
  ),
  session: { '628123456789.0': randomBytes(120) },
  'app-state-sync-key': {
    AAAAAB9x: proto.Message.AppStateSyncKeyData.fromObject({
      keyData: randomBytes(32),
      timestamp: 1_700_000_000,
    }),
  },
})

/** Every stored value, by row, as the database holds it. */
const snapshot = async (db: TestDatabase) => {
  const rows = await db.client.execute(
    `SELECT 'c' AS t, session_id, '' AS type, '' AS id, value FROM wa_auth_creds
     UNION ALL SELECT 'k', session_id, type, id, value FROM wa_auth_keys ORDER BY 1, 2, 3, 4`,
  )
  return rows.rows.map((r) => ({ row: `${r.t}/${r.session_id}/${r.type}/${r.id}`, value: String(r.value) }))
}

/** What each session's auth state reads back with `key`: creds and every key. */
const readBack = async (
  db: TestDatabase,
  key: Buffer | undefined,
  sessions: Record<string, SignalDataSet>,
) => {
  const out: Record<string, unknown> = {}
  for (const [sessionId, data] of Object.entries(sessions)) {
    const auth = await createDbAuthState(db.client, sessionId, { encryptionKey: key })
    const keys: Record<string, unknown> = {}
    for (const [type, entries] of Object.entries(data)) {
      keys[type] = await auth.state.keys.get(type as keyof SignalDataSet, Object.keys(entries ?? {}))
    }
    out[sessionId] = { creds: auth.state.creds, keys }
  }
  return out
}

describe('rotateAuthKey', () => {
  let db: TestDatabase
  const sessions = { acc1: sampleKeys(7), acc2: sampleKeys(3) }
  let original: Record<string, unknown>

  beforeEach(async () => {
    db = await openTestDatabase()
    for (const [sessionId, data] of Object.entries(sessions)) {
      const auth = await createDbAuthState(db.client, sessionId)
      auth.state.creds.me = { id: `${sessionId}:1@s.whatsapp.net` }
      await auth.saveCreds()
      await auth.state.keys.set(data)
    }
    original = await readBack(db, undefined, sessions)
  })
  afterEach(() => db.cleanup())

  it('goes plain → key A → key B → plain, each result readable by the auth state with that key only', async () => {
    const rows = (await snapshot(db)).length
    // A small page size makes the paging run several rounds.
    expect(await rotateAuthKey(db.client, { to: keyA, batchSize: 4 })).toEqual({
      creds: 2,
      keys: rows - 2,
      webhookSecrets: 0,
    })
    const underA = await snapshot(db)
    expect(underA.every((r) => r.value.startsWith('enc1:'))).toBe(true)
    expect(await readBack(db, keyA, sessions)).toEqual(original)
    await expect(createDbAuthState(db.client, 'acc1', { encryptionKey: keyB })).rejects.toThrow(
      'cannot be decrypted',
    )

    await rotateAuthKey(db.client, { from: keyA, to: keyB, batchSize: 4 })
    const underB = await snapshot(db)
    expect(underB.every((r) => r.value.startsWith('enc1:'))).toBe(true)
    // Every value sealed afresh, none left as it was under A.
    expect(underB.filter((r, i) => r.value === underA[i]?.value)).toEqual([])
    expect(await readBack(db, keyB, sessions)).toEqual(original)
    await expect(createDbAuthState(db.client, 'acc1', { encryptionKey: keyA })).rejects.toThrow(
      'cannot be decrypted',
    )

    await rotateAuthKey(db.client, { from: keyB })
    expect((await snapshot(db)).some((r) => r.value.startsWith('enc1:'))).toBe(false)
    expect(await readBack(db, undefined, sessions)).toEqual(original)
  })

  it('encrypts a mix of plain and old-key rows (encryption turned on after linking)', async () => {
    const auth = await createDbAuthState(db.client, 'acc3', { encryptionKey: keyA })
    await auth.saveCreds()
    await rotateAuthKey(db.client, { from: keyA, to: keyB })
    expect((await snapshot(db)).every((r) => r.value.startsWith('enc1:'))).toBe(true)
    expect(await readBack(db, keyB, sessions)).toEqual(original)
  })

  it('a wrong old key, or none for encrypted rows, fails and changes nothing', async () => {
    await rotateAuthKey(db.client, { to: keyA })
    const before = await snapshot(db)
    for (const from of [keyB, undefined]) {
      await expect(rotateAuthKey(db.client, { from, to: keyB, batchSize: 4 })).rejects.toBeInstanceOf(
        AuthKeyRotationError,
      )
      expect(await snapshot(db)).toEqual(before)
    }
    await expect(rotateAuthKey(db.client, { from: keyB })).rejects.toThrow(
      /row cannot be read with the current key.*nothing was changed/,
    )
    expect(await readBack(db, keyA, sessions)).toEqual(original)
  })

  it('rolls back rows already rewritten when a later key row fails', async () => {
    await rotateAuthKey(db.client, { to: keyA })
    // One key row sealed under another key: every row before it would be rewritten first.
    await db.client.execute({
      sql: `UPDATE wa_auth_keys SET value = ? WHERE session_id = 'acc2' AND type = 'session'`,
      args: [`enc1:${randomBytes(60).toString('base64')}`],
    })
    const before = await snapshot(db)
    await expect(rotateAuthKey(db.client, { from: keyA, to: keyB, batchSize: 2 })).rejects.toThrow(
      'wa_auth_keys row cannot be read',
    )
    expect(await snapshot(db)).toEqual(before)
  })

  it('re-seals webhook signing secrets sealed by the API, plain ones included', async () => {
    await rotateAuthKey(db.client, { to: keyA })
    const sealed = await sealWithWebCrypto(keyA, 'whsec_sealed', webhookSecretContext('wh_00000000000a'))
    for (const [id, secret] of [
      ['wh_00000000000a', sealed],
      ['wh_00000000000b', 'whsec_plain'],
    ] as [string, string][]) {
      await db.client.execute({
        sql: `INSERT INTO webhooks (id, session_id, url, events, secret, description, active, created_at)
              VALUES (?, NULL, 'https://hooks.example.com', '["*"]', ?, NULL, 1, 0)`,
        args: [id, secret],
      })
    }
    const result = await rotateAuthKey(db.client, { from: keyA, to: keyB })
    expect(result.webhookSecrets).toBe(2)
    const rows = await db.client.execute('SELECT id, secret FROM webhooks ORDER BY id')
    const underB = createValueCipher(keyB)
    expect(
      rows.rows.map((row) => underB.open(String(row.secret), webhookSecretContext(String(row.id)))),
    ).toEqual(['whsec_sealed', 'whsec_plain'])
  })

  it('handles an empty database', async () => {
    await db.client.batch(['DELETE FROM wa_auth_keys', 'DELETE FROM wa_auth_creds'], 'write')
    expect(await rotateAuthKey(db.client, { to: keyA })).toEqual({ creds: 0, keys: 0, webhookSecrets: 0 })
  })
})
