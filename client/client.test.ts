import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createTestContext, TEST_API_KEY, type TestContext } from '../api/test-support.js'
import { createClient, TrackerApiError } from './index.js'

let t: TestContext
let api: ReturnType<typeof createClient>

beforeEach(async () => {
  t = await createTestContext()
  // The app answers in process: the client's requests are the ones it would send over the network.
  api = createClient({
    baseUrl: 'http://tracker.test/',
    apiKey: TEST_API_KEY,
    fetch: (input, init) => Promise.resolve(t.app.request(String(input), init)),
  })
})
afterEach(() => t.close())

describe('the typed client', () => {
  it('creates and lists sessions and reads their state', async () => {
    const created = await api.sessions.create({
      sessionId: 'acc1',
      sessionName: 'Mine',
      authMethod: 'qrcode',
    })
    expect(created).toMatchObject({ sessionId: 'acc1', authMethod: 'qrcode' })
    expect((await api.sessions.list()).map((s) => s.sessionId)).toEqual(['acc1'])
    expect(await api.sessions.connectionStatus('acc1')).toMatchObject({ sessionId: 'acc1', connected: false })
    expect(await api.stats()).toMatchObject({ totalSessions: 1 })
  })

  it('throws the API refusal with its message and status', async () => {
    const refused = await api.sessions
      .create({ sessionId: 'bad id', sessionName: 'x', authMethod: 'qrcode' })
      .catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(TrackerApiError)
    expect(refused).toMatchObject({
      status: 400,
      message: 'sessionId may contain only letters, numbers, _ and - (max 64)',
    })
    const missing = await api.statuses.list('nobody').catch((error: unknown) => error)
    expect(missing).toMatchObject({ status: 404, message: 'Session not found' })
    const unkeyed = createClient({
      baseUrl: 'http://tracker.test',
      apiKey: 'wrong',
      fetch: (input, init) => Promise.resolve(t.app.request(String(input), init)),
    })
    await expect(unkeyed.sessions.list()).rejects.toMatchObject({ status: 401 })
  })

  it('manages webhooks and scoped keys, and a scoped client is held to its key', async () => {
    await api.sessions.create({ sessionId: 'acc1', sessionName: 'Mine', authMethod: 'qrcode' })
    const hook = await api.webhooks.create({ url: 'https://media.example.com/hook', sessionId: 'acc1' })
    expect(hook.secret).toMatch(/^whsec_/)
    expect((await api.webhooks.list('acc1')).map((w) => w.webhookId)).toEqual([hook.webhookId])
    expect(await api.webhooks.get(hook.webhookId)).toMatchObject({ events: ['*'], sessionId: 'acc1' })
    expect(await api.webhooks.deliveries(hook.webhookId)).toEqual({ data: [], nextCursor: null })
    await expect(api.webhooks.redeliver(hook.webhookId, 'whd_0000000000000000')).rejects.toMatchObject({
      status: 404,
      message: 'Delivery not found',
    })
    expect(await api.webhooks.delete(hook.webhookId)).toMatchObject({ webhookId: hook.webhookId })

    const created = await api.keys.create({ name: 'reader', scopes: ['read'], sessionIds: ['acc1'] })
    const reader = createClient({
      baseUrl: 'http://tracker.test',
      apiKey: created.key,
      fetch: (input, init) => Promise.resolve(t.app.request(String(input), init)),
    })
    expect((await reader.sessions.list()).map((s) => s.sessionId)).toEqual(['acc1'])
    await expect(reader.sessions.restart('acc1')).rejects.toMatchObject({
      status: 403,
      message: 'This API key lacks the "admin" scope',
    })
    expect((await api.keys.list())[0]).toMatchObject({ keyId: created.keyId, revokedAt: null })
    await api.keys.revoke(created.keyId)
    await expect(reader.sessions.list()).rejects.toMatchObject({ status: 401 })
  })

  it('sends, pages, exports and analyses statuses', async () => {
    await t.seedSession('acc1', { state: 'open', ownNumber: '628100000000' })
    const sent = await api.statuses.send('acc1', {
      type: 'text',
      content: 'hi',
      targetNumbers: '628200000001',
    })
    await t.seedStatus('acc1')
    const first = await api.statuses.listPage('acc1', { limit: 1 })
    expect(first.data).toHaveLength(1)
    const second = await api.statuses.listPage('acc1', { limit: 1, cursor: first.nextCursor! })
    expect(second.nextCursor).toBeNull()
    expect([...first.data, ...second.data].map((s) => s.id)).toContain(sent.statusId)
    expect(await api.statuses.viewersCsv('acc1', sent.statusId)).toBe('number,lid,jid,viewedAt\r\n')
    expect(await api.analytics.status('acc1', sent.statusId)).toMatchObject({
      audienceSize: 1,
      notViewed: ['628200000001'],
    })
    expect(await api.statuses.delete('acc1', sent.statusId, { forEveryone: true })).toMatchObject({
      deletedFromWhatsApp: true,
    })
  })

  it('starts a job for a big audience, saved as an audience, and reads it back', async () => {
    await t.seedSession('acc1', { state: 'open', ownNumber: '628100000000' })
    const numbers = Array.from({ length: 1001 }, (_, i) => String(628300000000 + i)).join(',')
    const audience = await api.audiences.create('acc1', { name: 'Everyone', numbers })
    expect(audience).toMatchObject({ name: 'Everyone', size: 1001 })
    expect((await api.audiences.list('acc1')).map((a) => a.audienceId)).toEqual([audience.audienceId])
    const started = await api.statuses.send('acc1', {
      type: 'text',
      content: 'hi',
      audienceId: audience.audienceId,
    })
    if (!('jobId' in started)) throw new Error('a 1,001-number audience is a job')
    expect(started).toMatchObject({ recipientsTotal: 1001, chunksTotal: 3, state: 'running' })
    expect(await api.jobs.get(started.jobId)).toMatchObject({ jobId: started.jobId, state: 'running' })
    await expect(api.jobs.get('job_ffffffffffffffff')).rejects.toMatchObject({ status: 404 })

    const later = await api.statuses.schedule('acc1', {
      type: 'text',
      content: 'later',
      targetNumbers: '628200000001',
      sendAt: new Date(Date.now() + 3_600_000).toISOString(),
    })
    expect((await api.statuses.scheduled('acc1')).map((s) => s.scheduledId)).toEqual([later.scheduledId])
    await api.statuses.cancelScheduled('acc1', later.scheduledId)
    expect((await api.statuses.scheduled('acc1'))[0]?.state).toBe('cancelled')
    await api.audiences.delete('acc1', audience.audienceId)
    expect(await api.audiences.list('acc1')).toEqual([])
  })
})
