import { Hono } from 'hono'
import { secureHeaders } from 'hono/secure-headers'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { SPLIT_MAX_AGE_MS } from '../shared/db/read-model.js'
import { createRepositories } from '../shared/db/repositories/index.js'
import type { Repositories } from '../shared/db/types.js'
import { API_HEADERS, PAGE_HEADERS } from './middleware/response-frame.js'
import { body, createTestContext, type TestContext, type TestContextOptions } from './test-support.js'

const contexts: TestContext[] = []
const setup = async (options: TestContextOptions = {}) => {
  const t = await createTestContext(options)
  contexts.push(t)
  return t
}
afterEach(async () => {
  await Promise.all(contexts.splice(0).map((t) => t.close()))
})

/** A second writer on the same database that the app's read model never hears from (a connector process). */
const elsewhere = (t: TestContext): Repositories => createRepositories(t.client)

const sessionsOf = async (t: TestContext) => (await body(await t.request('/api/sessions'))).data

describe('reads from the read model, embedded (exact)', () => {
  it('shows what the connector writes through the shared repositories on the very next request', async () => {
    const t = await setup()
    await t.seedSession('a')
    expect((await sessionsOf(t))[0]).toMatchObject({ sessionId: 'a', status: 'created', connected: false })
    // The connector's state writes go through the same repositories object.
    await t.repos.sessions.update('a', { state: 'open', ownNumber: '628111' })
    expect((await sessionsOf(t))[0]).toMatchObject({ status: 'open', connected: true, ownNumber: '628111' })
    const status = await t.seedStatus('a')
    const statuses = async () => (await body(await t.request('/api/sessions/a/sent-statuses'))).data
    expect((await statuses())[0]).toMatchObject({ id: status.id, viewerCount: 0 })
    await t.repos.viewers.recordMany([
      {
        sessionId: 'a',
        statusId: status.id,
        jid: '628222@s.whatsapp.net',
        number: '628222',
        lid: null,
        isReal: true,
        viewedAt: 1_700_000_000_000,
      },
    ])
    expect((await statuses())[0]).toMatchObject({ viewerCount: 1 })
    const viewers = await body(await t.request(`/api/sessions/a/status-viewers/${status.id}`))
    expect(viewers.data).toEqual([
      {
        jid: '628222@s.whatsapp.net',
        number: '628222',
        lid: null,
        isReal: true,
        viewedAt: new Date(1_700_000_000_000).toISOString(),
      },
    ])
    await t.repos.sessions.delete('a')
    expect(await sessionsOf(t)).toEqual([])
    expect((await t.request('/api/sessions/a/connection-status')).status).toBe(404)
  })

  it('answers repeated reads without touching the database, and the same bytes each time', async () => {
    const t = await setup()
    await t.seedSession('a')
    const status = await t.seedStatus('a')
    const paths = [
      '/api/sessions',
      '/api/sessions/a/sent-statuses',
      `/api/sessions/a/status-viewers/${status.id}`,
    ]
    const first = await Promise.all(paths.map(async (path) => (await t.request(path)).text()))
    const execute = vi.spyOn(t.client, 'execute')
    const batch = vi.spyOn(t.client, 'batch')
    const again = await Promise.all(paths.map(async (path) => (await t.request(path)).text()))
    expect(again).toEqual(first)
    expect(execute).not.toHaveBeenCalled()
    expect(batch).not.toHaveBeenCalled()
  })
})

describe(`reads from the read model, split (sessions up to ${SPLIT_MAX_AGE_MS} ms behind connectors)`, () => {
  const split = async () => {
    let now = 1_800_000_000_000
    const t = await setup({
      readModel: { consistency: 'bounded', maxAgeMs: SPLIT_MAX_AGE_MS, clock: () => now },
      clock: () => now,
    })
    return { t, connector: elsewhere(t), advance: (ms: number) => (now += ms) }
  }

  it("serves a connector's session write within the documented bound, never later", async () => {
    const { t, connector, advance } = await split()
    await t.seedSession('a')
    expect((await sessionsOf(t))[0]).toMatchObject({ status: 'created' })
    await connector.sessions.update('a', { state: 'open' })
    advance(SPLIT_MAX_AGE_MS - 1)
    expect((await sessionsOf(t))[0]).toMatchObject({ status: 'created' })
    advance(1)
    expect((await sessionsOf(t))[0]).toMatchObject({ status: 'open', connected: true })
  })

  it('decides commands on the stored state, and reads again after a command', async () => {
    const { t, connector } = await split()
    await t.seedSession('a')
    await sessionsOf(t)
    // The connector linked it a moment ago; the list in memory still says "created".
    await connector.sessions.update('a', { state: 'open' })
    const sent = await t.json('/api/sessions/a/send-status', 'POST', {
      type: 'text',
      content: 'hi',
      targetNumbers: '628123456789',
    })
    expect(sent.status).toBe(200)
    // The command made this process drop its copy.
    expect((await sessionsOf(t))[0]).toMatchObject({ status: 'open' })
    // A session another API instance created is found at once, not a 404.
    await connector.sessions.create({
      id: 'b',
      name: 'Session b',
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
    expect((await t.request('/api/sessions/b/connection-status')).status).toBe(200)
  })

  it("shows a connector's statuses and viewers within the documented bound, never later", async () => {
    const { t, connector, advance } = await split()
    await t.seedSession('a')
    const status = await connector.statuses.insert({
      sessionId: 'a',
      type: 'text',
      content: 'Hello',
      caption: '',
      backgroundColor: null,
      font: null,
      targetNumbers: '628123456789',
      contactCount: 1,
      waMessageId: 'W1',
      state: 'sent',
      error: null,
      mediaFilename: null,
      createdAt: 1_800_000_000_000,
      expiresAt: 1_800_000_000_000 + 86_400_000,
    })
    const statuses = async () => (await body(await t.request('/api/sessions/a/sent-statuses'))).data
    expect((await statuses()).map((s: { id: string }) => s.id)).toEqual([status.id])
    await connector.viewers.recordMany([
      {
        sessionId: 'a',
        statusId: status.id,
        jid: '628333@s.whatsapp.net',
        number: '628333',
        lid: null,
        isReal: true,
        viewedAt: 1_800_000_001_000,
      },
    ])
    const viewers = async () =>
      (await body(await t.request(`/api/sessions/a/status-viewers/${status.id}`))).data.map(
        (v: { number: string }) => v.number,
      )
    advance(SPLIT_MAX_AGE_MS - 1)
    expect((await statuses())[0]).toMatchObject({ viewerCount: 0 })
    advance(1)
    expect((await statuses())[0]).toMatchObject({ viewerCount: 1 })
    expect(await viewers()).toEqual(['628333'])
    await connector.statuses.delete('a', status.id)
    advance(SPLIT_MAX_AGE_MS)
    expect((await t.request(`/api/sessions/a/status-viewers/${status.id}`)).status).toBe(404)
  })
})

describe('response headers and logs', () => {
  const lowerCased = (headers: Readonly<Record<string, string>>) =>
    Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]))

  it("gives pages exactly hono's secureHeaders() defaults, precomputed", async () => {
    const reference = await new Hono()
      .use(secureHeaders())
      .get('/', (c) => c.html('<p>hi</p>'))
      .request('/')
    const expected = Object.fromEntries(
      [...reference.headers].filter(([name]) => name !== 'content-type' && name !== 'content-length'),
    )
    expect(lowerCased(PAGE_HEADERS)).toEqual(expected)
    const t = await setup()
    const page = await t.request('/docs', { apiKey: null })
    expect(page.headers.get('content-type')).toMatch(/text\/html/)
    for (const [name, value] of Object.entries(expected)) expect(page.headers.get(name), name).toBe(value)
    // The JSON answers' policy would forbid the page its own inline style.
    expect(page.headers.get('content-security-policy')).toBeNull()
    expect(page.headers.get('x-request-id')).toMatch(/^[\w=-]{8,64}$/)
  })

  it('gives every JSON answer the API set, whichever way it was built', async () => {
    const t = await setup()
    await t.seedSession('a')
    const answers = [
      await t.request('/api/health'), // answered before Hono
      await t.request('/api/sessions'), // answered before Hono
      await t.request('/api/sessions/a'), // a route
      await t.request('/api/nothing'), // not found
      await t.request('/api/sessions', { apiKey: null }), // 401
      await t.json('/api/sessions', 'POST', { sessionId: '' }), // validation
    ]
    for (const res of answers) {
      expect(res.headers.get('content-type')).toMatch(/^application\/json/)
      const secure = Object.fromEntries(
        [...res.headers].filter(
          ([name]) => name in lowerCased(PAGE_HEADERS) || name in lowerCased(API_HEADERS),
        ),
      )
      expect(secure, res.url).toEqual(lowerCased(API_HEADERS))
      expect(res.headers.get('x-request-id')).toMatch(/^[\w=-]{8,64}$/)
    }
  })

  it('writes no log line for ordinary requests', async () => {
    const logger = { info: vi.fn(), warn: vi.fn(), error: vi.fn() }
    const t = await setup({ logger })
    await t.seedSession('a')
    logger.warn.mockClear()
    for (const path of ['/api/health', '/api/sessions', '/api/sessions/a/sent-statuses', '/api/nothing']) {
      await t.request(path)
    }
    await t.request('/api/sessions', { apiKey: null })
    expect(logger.info).not.toHaveBeenCalled()
    expect(logger.warn).not.toHaveBeenCalled()
    expect(logger.error).not.toHaveBeenCalled()
  })
})
