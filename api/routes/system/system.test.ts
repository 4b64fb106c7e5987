import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { body, createTestContext, type TestContext } from '../../test-support.js'

let t: TestContext
beforeEach(async () => {
  t = await createTestContext()
})
afterEach(() => t.close())

describe('GET /api/health', () => {
  it('answers without a key and tells nothing secret', async () => {
    const res = await t.request('/api/health', { apiKey: null })
    expect(res.status).toBe(200)
    const json = await body(res)
    expect(json).toMatchObject({ success: true, data: { status: 'healthy', version: '2.0.0-test' } })
    expect(Object.keys(json.data).sort()).toEqual(['status', 'timestamp', 'uptime', 'version'])
    expect(json.data.uptime).toBeGreaterThanOrEqual(5)
    expect(Date.parse(json.data.timestamp)).not.toBeNaN()
  })
})

describe('GET /api/stats', () => {
  it('aggregates sessions, statuses and viewers', async () => {
    await t.seedSession('a', { state: 'open', ownNumber: '628111' })
    await t.seedSession('b')
    const status = await t.seedStatus('a', { createdAt: 1_700_000_000_000, expiresAt: Date.now() + 1000 })
    await t.seedStatus('a', { createdAt: 1_700_000_500_000, expiresAt: Date.now() + 1000 })
    await t.repos.viewers.recordMany([
      {
        sessionId: 'a',
        statusId: status.id,
        jid: '628222@s.whatsapp.net',
        number: '628222',
        lid: null,
        isReal: true,
        viewedAt: 1,
      },
    ])
    const res = await t.request('/api/stats')
    expect(res.status).toBe(200)
    const { data } = await body(res)
    expect(data).toMatchObject({
      totalSessions: 2,
      connectedSessions: 1,
      totalStatuses: 2,
      totalViewers: 1,
      lastStatusSent: new Date(1_700_000_500_000).toISOString(),
    })
    expect(data.sessions).toContainEqual(
      expect.objectContaining({
        sessionId: 'a',
        sessionName: 'Session a',
        connected: true,
        ownNumber: '628111',
        statusCount: 2,
      }),
    )
    expect(data.sessions).toContainEqual(
      expect.objectContaining({ sessionId: 'b', connected: false, ownNumber: null }),
    )
  })

  it('needs the API key', async () => {
    expect((await t.request('/api/stats', { apiKey: null })).status).toBe(401)
  })
})

describe('GET /api/storage', () => {
  it('reports per-session usage', async () => {
    await t.seedSession('a')
    await t.seedStatus('a')
    const res = await t.request('/api/storage')
    expect(res.status).toBe(200)
    const { data } = await body(res)
    expect(data.sessions).toContainEqual(expect.objectContaining({ sessionId: 'a', statuses: 1, viewers: 0 }))
    expect(data).toHaveProperty('databaseBytes')
  })

  it('needs the API key', async () => {
    expect(
      (await t.request('/api/storage', { headers: { authorization: 'Bearer nope-nope-nope' } })).status,
    ).toBe(401)
  })
})
