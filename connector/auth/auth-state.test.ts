import { randomBytes } from 'node:crypto'
import { proto, type SignalDataSet } from '@whiskeysockets/baileys'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { openTestDatabase, type TestDatabase } from '../../shared/db/test-support.js'
import { createDbAuthState } from './auth-state.js'

/** One sample value per key type, shaped as Baileys stores them. */
const sampleKeys = (): SignalDataSet => ({
  'pre-key': { '1': { public: randomBytes(32), private: randomBytes(32) } },
  session: { '628123456789.0': randomBytes(120) },
  'sender-key': { 'status@broadcast::628123456789::0': randomBytes(80) },
  'sender-key-memory': { 'status@broadcast': { '628123456789:0@s.whatsapp.net': true } },
  'app-state-sync-key': {
    AAAAAB9x: proto.Message.AppStateSyncKeyData.fromObject({
      keyData: randomBytes(32),
      fingerprint: { rawId: 7, currentIndex: 1, deviceIndexes: [0, 1] },
      timestamp: 1_700_000_000,
    }),
  },
  'app-state-sync-version': {
    regular: { version: 3, hash: randomBytes(128), indexValueMap: { abc: { valueMac: randomBytes(32) } } },
  },
  'lid-mapping': { '628123456789': '12345678901234' },
  'device-list': { '628123456789': ['0', '3'] },
  tctoken: { '628123456789@s.whatsapp.net': { token: randomBytes(16), timestamp: '1700000000' } },
  'identity-key': { '628123456789.0': randomBytes(33) },
})

const storedValues = async (db: TestDatabase, sessionId = 'main') => {
  const result = await db.client.execute({
    sql: 'SELECT value FROM wa_auth_keys WHERE session_id = ? UNION ALL SELECT value FROM wa_auth_creds WHERE session_id = ?',
    args: [sessionId, sessionId],
  })
  return result.rows.map((row) => String(row.value))
}

describe('createDbAuthState', () => {
  let db: TestDatabase
  beforeEach(async () => {
    db = await openTestDatabase()
  })
  afterEach(() => db.cleanup())

  it('starts with fresh creds and persists them, Buffers included, on saveCreds', async () => {
    const first = await createDbAuthState(db.client, 'main')
    expect(await first.hasCreds()).toBe(false)
    first.state.creds.me = { id: '628123456789:5@s.whatsapp.net', lid: '12345678901234:5@lid' }
    await first.saveCreds()
    expect(await first.hasCreds()).toBe(true)

    const reloaded = await createDbAuthState(db.client, 'main')
    expect(reloaded.state.creds).toEqual(first.state.creds)
    expect(Buffer.isBuffer(reloaded.state.creds.noiseKey.private)).toBe(true)
    expect(Buffer.isBuffer(reloaded.state.creds.signedIdentityKey.public)).toBe(true)
    expect(reloaded.state.creds.me?.id).toBe('628123456789:5@s.whatsapp.net')
  })

  it('lands the newest creds when saves overlap', async () => {
    const auth = await createDbAuthState(db.client, 'main')
    const saves = []
    for (let n = 0; n < 20; n++) {
      auth.state.creds.nextPreKeyId = n
      saves.push(auth.saveCreds())
    }
    await Promise.all(saves)
    expect((await createDbAuthState(db.client, 'main')).state.creds.nextPreKeyId).toBe(19)
  })

  it('round-trips every key type', async () => {
    const auth = await createDbAuthState(db.client, 'main')
    const data = sampleKeys()
    await auth.state.keys.set(data)
    for (const [type, entries] of Object.entries(data)) {
      const ids = Object.keys(entries ?? {})
      const found = await auth.state.keys.get(type as keyof SignalDataSet, ids)
      expect(found, type).toEqual(entries)
    }
  })

  it('rebuilds app-state-sync-key values as protobuf objects', async () => {
    const auth = await createDbAuthState(db.client, 'main')
    await auth.state.keys.set({ 'app-state-sync-key': sampleKeys()['app-state-sync-key'] })
    const { AAAAAB9x: key } = await auth.state.keys.get('app-state-sync-key', ['AAAAAB9x'])
    expect(key).toBeInstanceOf(proto.Message.AppStateSyncKeyData)
    expect(key?.fingerprint?.rawId).toBe(7)
  })

  it('returns only the ids it has', async () => {
    const auth = await createDbAuthState(db.client, 'main')
    await auth.state.keys.set({ session: { a: randomBytes(4) } })
    expect(Object.keys(await auth.state.keys.get('session', ['a', 'b', 'c']))).toEqual(['a'])
    expect(await auth.state.keys.get('session', [])).toEqual({})
  })

  it('deletes keys set to null and stays idempotent when a set is repeated', async () => {
    const auth = await createDbAuthState(db.client, 'main')
    await auth.state.keys.set({ session: { a: Buffer.from('1'), b: Buffer.from('2') } })
    const update: SignalDataSet = { session: { a: null, b: Buffer.from('3') }, 'pre-key': { '9': null } }
    await auth.state.keys.set(update)
    await auth.state.keys.set(update)
    expect(await auth.state.keys.get('session', ['a', 'b'])).toEqual({ b: Buffer.from('3') })
  })

  it('applies a set as a whole or not at all', async () => {
    const auth = await createDbAuthState(db.client, 'main')
    await auth.state.keys.set({ session: { a: Buffer.from('old') } })
    // A value that cannot be serialised fails the whole call: the first entry must not land either.
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    const broken = { session: { a: Buffer.from('new') }, 'sender-key-memory': { x: cyclic } } as SignalDataSet
    await expect(auth.state.keys.set(broken)).rejects.toThrow()
    expect(await auth.state.keys.get('session', ['a'])).toEqual({ a: Buffer.from('old') })
  })

  it('writes one set() call, whatever it holds, as one batch', async () => {
    const auth = await createDbAuthState(db.client, 'main')
    const batch = vi.spyOn(db.client, 'batch')
    const execute = vi.spyOn(db.client, 'execute')
    await auth.state.keys.set({ ...sampleKeys(), session: { a: Buffer.from('1'), gone: null } })
    expect(batch).toHaveBeenCalledTimes(1)
    expect(execute).not.toHaveBeenCalled()
  })

  it('keeps every write when many set() calls race', async () => {
    const auth = await createDbAuthState(db.client, 'main')
    await Promise.all(
      Array.from({ length: 50 }, (_, n) =>
        auth.state.keys.set({ session: { [`s${n}`]: Buffer.from([n]) }, 'pre-key': { [`${n}`]: null } }),
      ),
    )
    const ids = Array.from({ length: 50 }, (_, n) => `s${n}`)
    expect(Object.keys(await auth.state.keys.get('session', ids))).toHaveLength(50)
  })

  it('keeps sessions apart', async () => {
    const main = await createDbAuthState(db.client, 'main')
    const other = await createDbAuthState(db.client, 'other')
    await main.state.keys.set({ session: { a: Buffer.from('main') } })
    expect(await other.state.keys.get('session', ['a'])).toEqual({})
  })

  it('clear() wipes creds and keys of its own session only and resets the creds in memory', async () => {
    const main = await createDbAuthState(db.client, 'main')
    const other = await createDbAuthState(db.client, 'other')
    for (const auth of [main, other]) {
      auth.state.creds.me = { id: '628123456789:5@s.whatsapp.net' }
      await auth.saveCreds()
      await auth.state.keys.set(sampleKeys())
    }
    const credsObject = main.state.creds
    await main.clear()

    expect(await main.hasCreds()).toBe(false)
    expect(await storedValues(db, 'main')).toEqual([])
    expect(main.state.creds).toBe(credsObject)
    expect(main.state.creds.me).toBeUndefined()
    expect(await other.hasCreds()).toBe(true)
    expect((await storedValues(db, 'other')).length).toBe(11)
  })

  describe('encryption at rest', () => {
    const key = randomBytes(32)

    it('stores no plaintext and reads it back with the key', async () => {
      const auth = await createDbAuthState(db.client, 'main', { encryptionKey: key })
      auth.state.creds.me = { id: '628123456789:5@s.whatsapp.net' }
      await auth.saveCreds()
      await auth.state.keys.set({ 'lid-mapping': { '628123456789': '12345678901234' } })

      const stored = await storedValues(db)
      expect(stored).toHaveLength(2)
      for (const value of stored) {
        expect(value.startsWith('enc1:')).toBe(true)
        expect(value).not.toContain('628123456789')
        expect(value).not.toContain('12345678901234')
      }
      const reloaded = await createDbAuthState(db.client, 'main', { encryptionKey: key })
      expect(reloaded.state.creds).toEqual(auth.state.creds)
      expect(await reloaded.state.keys.get('lid-mapping', ['628123456789'])).toEqual({
        '628123456789': '12345678901234',
      })
    })

    it('uses a fresh IV for every value', async () => {
      const auth = await createDbAuthState(db.client, 'main', { encryptionKey: key })
      await auth.state.keys.set({ 'lid-mapping': { a: 'same', b: 'same' } })
      const [first, second] = await storedValues(db)
      expect(first).not.toBe(second)
    })

    it('fails clearly with the wrong key or no key', async () => {
      const auth = await createDbAuthState(db.client, 'main', { encryptionKey: key })
      await auth.saveCreds()
      await expect(createDbAuthState(db.client, 'main', { encryptionKey: randomBytes(32) })).rejects.toThrow(
        'Auth state cannot be decrypted: wrong encryption key or corrupted value',
      )
      await expect(createDbAuthState(db.client, 'main')).rejects.toThrow(
        'Auth state is encrypted but no encryption key is configured',
      )
    })

    it('does not decrypt a value moved to another row', async () => {
      const auth = await createDbAuthState(db.client, 'main', { encryptionKey: key })
      await auth.state.keys.set({ session: { a: Buffer.from('secret') } })
      await db.client.execute("UPDATE wa_auth_keys SET id = 'b' WHERE id = 'a'")
      await expect(auth.state.keys.get('session', ['b'])).rejects.toThrow('cannot be decrypted')
    })

    it('still reads values stored before encryption was turned on', async () => {
      const plain = await createDbAuthState(db.client, 'main')
      await plain.saveCreds()
      await plain.state.keys.set({ session: { a: Buffer.from('old') } })
      const encrypted = await createDbAuthState(db.client, 'main', { encryptionKey: key })
      expect(encrypted.state.creds).toEqual(plain.state.creds)
      expect(await encrypted.state.keys.get('session', ['a'])).toEqual({ a: Buffer.from('old') })
    })

    it('rejects a key that is not 32 bytes', async () => {
      await expect(createDbAuthState(db.client, 'main', { encryptionKey: randomBytes(16) })).rejects.toThrow(
        '32 bytes',
      )
    })
  })
})
