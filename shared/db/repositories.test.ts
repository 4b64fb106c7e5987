import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createDbAuthState } from '../../connector/auth/auth-state.js'
import { createRepositories } from './repositories/index.js'
import { newStatus, openTestDatabase, type TestDatabase } from './test-support.js'
import type { Repositories } from './types.js'

describe('uploads, LID map and storage usage', () => {
  let db: TestDatabase
  let repos: Repositories
  beforeEach(async () => {
    db = await openTestDatabase()
    repos = createRepositories(db.client)
  })
  afterEach(() => db.cleanup())

  it('stores, reads and deletes an upload', async () => {
    const upload = {
      filename: 'f1.jpg',
      kind: 'image' as const,
      mime: 'image/jpeg',
      size: 1234,
      createdAt: 1000,
      verified: true,
    }
    await repos.uploads.insert(upload)
    expect(await repos.uploads.get('f1.jpg')).toEqual(upload)
    expect(await repos.uploads.delete('f1.jpg')).toBe(true)
    expect(await repos.uploads.delete('f1.jpg')).toBe(false)
    expect(await repos.uploads.get('f1.jpg')).toBeNull()
  })

  it('maps LIDs to phone numbers per session, latest pair winning', async () => {
    await repos.lidMap.upsertMany('main', [
      { lid: '111@lid', pn: '628111@s.whatsapp.net' },
      { lid: '222@lid', pn: '628222@s.whatsapp.net' },
    ])
    await repos.lidMap.upsertMany('main', [{ lid: '111@lid', pn: '628999@s.whatsapp.net' }])
    await repos.lidMap.upsertMany('other', [{ lid: '333@lid', pn: '628333@s.whatsapp.net' }])
    await repos.lidMap.upsertMany('main', [])
    const found = await repos.lidMap.getPnForLids('main', ['111@lid', '222@lid', '333@lid', 'unknown@lid'])
    expect(Object.fromEntries(found)).toEqual({
      '111@lid': '628999@s.whatsapp.net',
      '222@lid': '628222@s.whatsapp.net',
    })
    await repos.lidMap.deleteForSession('main')
    expect((await repos.lidMap.getPnForLids('main', ['111@lid'])).size).toBe(0)
    expect((await repos.lidMap.getPnForLids('other', ['333@lid'])).size).toBe(1)
  })

  it('reports per-session usage and the database size', async () => {
    await repos.sessions.create({
      id: 'empty',
      name: 'Empty',
      authMethod: 'qrcode',
      phoneNumber: null,
      state: 'created',
      ownNumber: null,
      ownJid: null,
      ownLid: null,
      pairingCode: null,
      qrCode: null,
      lastError: null,
    })
    const auth = await createDbAuthState(db.client, 'main')
    await auth.saveCreds()
    await auth.state.keys.set({ 'lid-mapping': { a: 'x', b: 'y' } })
    const status = await repos.statuses.insert(newStatus())
    await repos.viewers.recordMany(
      ['a', 'b', 'c'].map((jid) => ({
        sessionId: 'main',
        statusId: status.id,
        jid,
        number: null,
        lid: null,
        isReal: false,
        viewedAt: 1,
      })),
    )

    const usage = await repos.storageUsage()
    expect(usage.databaseBytes).toBeGreaterThan(0)
    const creds = await db.client.execute(
      "SELECT LENGTH(value) AS n FROM wa_auth_creds WHERE session_id = 'main'",
    )
    const keyBytes = JSON.stringify('x').length + JSON.stringify('y').length
    expect(usage.sessions).toEqual([
      { sessionId: 'empty', authKeys: 0, authBytes: 0, statuses: 0, viewers: 0 },
      {
        sessionId: 'main',
        authKeys: 2,
        authBytes: Number(creds.rows[0]?.n) + keyBytes,
        statuses: 1,
        viewers: 3,
      },
    ])
  })
})
