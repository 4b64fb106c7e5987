import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { requestListener } from '../shared/node/http-server.js'
import { createApp } from './app.js'
import { createTestContext, TEST_API_KEY, type TestContext } from './test-support.js'
import type { App } from './types.js'

/**
 * The hot reads answered before Hono (`fast-reads.ts`) must give exactly the answers the routes
 * give. Each case goes to the product's app and to a twin built from the same deps with
 * `fastReads: false` (same database, same clock, a limiter of its own that sees the same
 * requests), and then over real sockets through the node:http adapter.
 */

const contexts: TestContext[] = []
const servers: Server[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
  await Promise.all(contexts.splice(0).map((t) => t.close()))
})

const NOW = 1_800_000_000_000

const setup = async (env: Record<string, string> = {}) => {
  const t = await createTestContext({ env, clock: () => NOW })
  contexts.push(t)
  const plain = createApp({ ...t.deps, fastReads: false })
  await t.seedSession('a', { state: 'open', ownNumber: '628111', ownJid: '628111@s.whatsapp.net' })
  const status = await t.seedStatus('a')
  await t.repos.viewers.recordMany([
    {
      sessionId: 'a',
      statusId: status.id,
      jid: '628222@s.whatsapp.net',
      number: '628222',
      lid: null,
      isReal: true,
      viewedAt: NOW - 1_000,
    },
  ])
  return { t, plain, statusId: status.id }
}

interface Case {
  path: string
  headers?: Record<string, string>
}

const key = { 'x-api-key': TEST_API_KEY }

const cases = (statusId: string): Case[] => [
  { path: '/api/health' },
  { path: '/api/health', headers: key },
  { path: '/api/health?verbose=1' },
  { path: '/api/sessions', headers: key },
  { path: '/api/sessions', headers: { authorization: `Bearer ${TEST_API_KEY}` } },
  { path: '/api/sessions' },
  { path: '/api/sessions', headers: { 'x-api-key': 'wrong-key-0123456789' } },
  { path: '/api/sessions', headers: { ...key, 'x-request-id': 'client-id_1=' } },
  { path: '/api/sessions/a/sent-statuses', headers: key },
  { path: '/api/sessions/a/sent-statuses' },
  { path: `/api/sessions/a/status-viewers/${statusId}`, headers: key },
  { path: `/api/sessions/a/status-viewers/${statusId}` },
  { path: '/api/sessions/missing/sent-statuses', headers: key },
  { path: '/api/sessions/a/status-viewers/999999', headers: key },
  { path: '/api/sessions/a%20b/sent-statuses', headers: key },
  { path: `/api/sessions/${'x'.repeat(300)}/sent-statuses`, headers: key },
  { path: '/api/sessions/a/sent-statuses/', headers: key },
]

/** Status, body and headers, with what differs per request by design (a fresh id) taken out. */
const comparable = async (response: Response, sentId: string | undefined) => {
  const headers = Object.fromEntries(response.headers)
  const id = headers['x-request-id']
  if (sentId) expect(id).toBe(sentId)
  else expect(id).toMatch(/^[0-9a-f-]{36}$/)
  delete headers['x-request-id']
  delete headers.date
  delete headers.connection
  delete headers['keep-alive']
  return { status: response.status, headers, body: await response.text() }
}

const ask = (app: App, { path, headers }: Case) => app.request(path, { headers: headers ?? {} })

describe('reads answered before Hono', () => {
  it('give the same status, headers and body as the routes, request by request', async () => {
    const { t, plain, statusId } = await setup()
    for (const c of cases(statusId)) {
      const sentId = c.headers?.['x-request-id']
      const fast = await comparable(await ask(t.app, c), sentId)
      const routed = await comparable(await ask(plain, c), sentId)
      expect({ case: c.path, ...fast }).toEqual({ case: c.path, ...routed })
    }
  })

  it('count in the same rate-limit buckets and answer the same 429', async () => {
    const { t, plain } = await setup({ RATE_LIMIT_MAX: '3', RATE_LIMIT_ANON_MAX: '2' })
    const sequence = [
      { path: '/api/sessions', headers: key },
      { path: '/api/sessions' },
      { path: '/api/sessions', headers: key },
      { path: '/api/sessions' },
      { path: '/api/sessions', headers: key },
      { path: '/api/sessions' },
      { path: '/api/sessions', headers: key },
      { path: '/api/health' },
    ]
    const statuses: number[] = []
    for (const c of sequence) {
      const fast = await comparable(await ask(t.app, c), undefined)
      const routed = await comparable(await ask(plain, c), undefined)
      expect(fast).toEqual(routed)
      statuses.push(fast.status)
    }
    expect(statuses).toEqual([200, 401, 200, 401, 200, 429, 429, 200])
  })

  it('show a write on the next read', async () => {
    const { t, plain } = await setup()
    await ask(t.app, { path: '/api/sessions', headers: key })
    await ask(plain, { path: '/api/sessions', headers: key })
    await t.repos.sessions.update('a', { state: 'closed', lastError: 'gone' })
    const fast = await comparable(await ask(t.app, { path: '/api/sessions', headers: key }), undefined)
    const routed = await comparable(await ask(plain, { path: '/api/sessions', headers: key }), undefined)
    expect(fast).toEqual(routed)
    expect(JSON.parse(fast.body).data[0]).toMatchObject({ status: 'closed', lastError: 'gone' })
  })
})

interface Unusual {
  method: string
  headers: Record<string, string>
  body?: string
}

describe('the node:http adapter', () => {
  const serve = async (app: App, withFastReads: boolean) => {
    let viaHono = 0
    const fetch = (request: Request, env?: unknown) => {
      viaHono++
      return app.fetch(request, env)
    }
    const server = createServer(
      requestListener(fetch, withFastReads ? app.fastReads : undefined, '127.0.0.1'),
    )
    servers.push(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    return { base, viaHono: () => viaHono }
  }

  it('writes the same answers itself, and leaves what it cannot answer to Hono', async () => {
    const { t, plain, statusId } = await setup()
    const direct = await serve(t.app, true)
    const adapted = await serve(plain, false)
    for (const c of cases(statusId)) {
      const sentId = c.headers?.['x-request-id']
      const init = { headers: c.headers ?? {} }
      const fast = await comparable(await fetch(`${direct.base}${c.path}`, init), sentId)
      const routed = await comparable(await fetch(`${adapted.base}${c.path}`, init), sentId)
      expect({ case: c.path, ...fast }).toEqual({ case: c.path, ...routed })
    }
    const all = cases(statusId).length
    expect(adapted.viaHono()).toBe(all)
    // Through Hono: the seven cases only routes answer (health with the key or with a query, an
    // unknown session or status, an encoded or refused id, a trailing slash) and the first read of
    // each of the three lists, which loads it into the read model. The others were written directly.
    expect(direct.viaHono()).toBe(7 + 3)
  })

  it('hands a GET with a body, a HEAD and an unusual Host to Hono', async () => {
    const { t, plain } = await setup()
    const direct = await serve(t.app, true)
    const adapted = await serve(plain, false)
    const send = (base: string, options: Unusual) =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          `${base}/api/health`,
          { method: options.method, headers: options.headers },
          (res) => {
            res.resume()
            res.on('end', () => resolve(res.statusCode ?? 0))
          },
        )
        req.on('error', reject)
        req.end(options.body)
      })
    const unusual: Unusual[] = [
      { method: 'HEAD', headers: {} },
      { method: 'GET', headers: { 'content-type': 'application/json', 'content-length': '2' }, body: '{}' },
      { method: 'GET', headers: { host: 'EXAMPLE.org' } },
    ]
    for (const options of unusual) {
      const before = direct.viaHono()
      expect(await send(direct.base, options)).toBe(await send(adapted.base, options))
      expect({ ...options, viaHono: direct.viaHono() - before }).toEqual({ ...options, viaHono: 1 })
    }
    expect(direct.viaHono()).toBe(unusual.length)
  })
})
