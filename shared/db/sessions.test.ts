import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AppError } from '../errors.js'
import { createRepositories } from './repositories/index.js'
import { openTestDatabase, type TestDatabase } from './test-support.js'
import type { Repositories, SessionRecord } from './types.js'

const session = (id: string, createdAt?: number) =>
  ({
    id,
    name: `Session ${id}`,
    authMethod: 'pairing',
    phoneNumber: '628123456789',
    state: 'created',
    ownNumber: null,
    ownJid: null,
    ownLid: null,
    pairingCode: null,
    qrCode: null,
    lastError: null,
    createdAt,
  }) satisfies Omit<SessionRecord, 'createdAt' | 'updatedAt' | 'connectorId'> & { createdAt?: number }

describe('sessions repository', () => {
  let db: TestDatabase
  let repos: Repositories
  beforeEach(async () => {
    db = await openTestDatabase()
    repos = createRepositories(db.client)
  })
  afterEach(() => db.cleanup())

  it('creates a session and reads it back', async () => {
    const created = await repos.sessions.create(session('personal', 1_700_000_000_000))
    expect(created).toMatchObject({
      id: 'personal',
      createdAt: 1_700_000_000_000,
      updatedAt: 1_700_000_000_000,
    })
    expect(await repos.sessions.get('personal')).toEqual(created)
  })

  it('rejects a taken id with a conflict', async () => {
    await repos.sessions.create(session('personal'))
    const error = await repos.sessions.create(session('personal')).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AppError)
    expect(error).toMatchObject({ code: 'conflict', message: 'Session already exists' })
  })

  it('lists sessions oldest first', async () => {
    await repos.sessions.create(session('b', 2000))
    await repos.sessions.create(session('a', 3000))
    await repos.sessions.create(session('c', 1000))
    expect((await repos.sessions.list()).map((s) => s.id)).toEqual(['c', 'b', 'a'])
  })

  it('updates only the given fields and moves updatedAt', async () => {
    await repos.sessions.create(session('personal', 1000))
    const updated = await repos.sessions.update('personal', {
      state: 'open',
      ownJid: '628123456789@s.whatsapp.net',
      pairingCode: null,
    })
    expect(updated).toMatchObject({
      state: 'open',
      ownJid: '628123456789@s.whatsapp.net',
      phoneNumber: '628123456789',
      name: 'Session personal',
      createdAt: 1000,
    })
    expect(updated?.updatedAt).toBeGreaterThan(1000)
  })

  it('clears a field set to null and ignores keys outside the patch columns', async () => {
    await repos.sessions.create({ ...session('personal'), qrCode: 'data:image/png;base64,AAAA' })
    const patch = { qrCode: null, id: 'hijack', createdAt: 1 } as unknown as { qrCode: null }
    const updated = await repos.sessions.update('personal', patch)
    expect(updated).toMatchObject({ id: 'personal', qrCode: null })
    expect(updated?.createdAt).not.toBe(1)
  })

  it('answers null when updating a missing session', async () => {
    expect(await repos.sessions.update('missing', { state: 'open' })).toBeNull()
  })

  it('deletes a session once', async () => {
    await repos.sessions.create(session('personal'))
    expect(await repos.sessions.delete('personal')).toBe(true)
    expect(await repos.sessions.delete('personal')).toBe(false)
    expect(await repos.sessions.get('personal')).toBeNull()
  })
})
