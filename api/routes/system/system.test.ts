import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { HealthProbe, HealthReport } from '../../../shared/health.js'
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
    expect(Object.keys(json.data).sort()).toEqual(['components', 'status', 'timestamp', 'uptime', 'version'])
    expect(json.data.components).toEqual({ db: 'up', redis: 'not_used', storage: 'up', connectors: 'up' })
    expect(json.data.uptime).toBeGreaterThanOrEqual(5)
    expect(Date.parse(json.data.timestamp)).not.toBeNaN()
  })

  const probe = (report: Partial<HealthReport>): HealthProbe => ({
    check: async () => ({ db: 'up', redis: 'up', storage: 'up', connectors: 'up', ...report }),
    connectors: async () => [{ id: 'connector-1', sessions: 3, maxSessions: 1000, url: null }],
  })

  it('says degraded (200) when Redis, storage or the connectors are down, unhealthy (503) without the database', async () => {
    const degraded = await createTestContext({ health: probe({ redis: 'down', connectors: 'down' }) })
    const res = await degraded.request('/api/health', { apiKey: null })
    expect(res.status).toBe(200)
    expect((await body(res)).data).toMatchObject({
      status: 'degraded',
      components: { db: 'up', redis: 'down', storage: 'up', connectors: 'down' },
    })
    await degraded.close()

    const down = await createTestContext({ health: probe({ db: 'down' }) })
    const res503 = await down.request('/api/health', { apiKey: null })
    expect(res503.status).toBe(503)
    expect(await body(res503)).toMatchObject({
      success: false,
      error: 'The database is unreachable',
      data: { status: 'unhealthy', components: { db: 'down' } },
    })
    await down.close()
  })

  it('lists the live connectors only to a caller with the key', async () => {
    const split = await createTestContext({ health: probe({}) })
    const anonymous = await body(await split.request('/api/health', { apiKey: null }))
    expect(anonymous.data.connectors).toBeUndefined()
    const keyed = await body(await split.request('/api/health'))
    expect(keyed.data.connectors).toEqual([{ id: 'connector-1', sessions: 3, maxSessions: 1000, url: null }])
    await split.close()
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
