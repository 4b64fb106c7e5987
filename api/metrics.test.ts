import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ProductMetrics } from '../shared/metrics.js'
import { createApp } from './app.js'
import { body, createTestContext, TEST_API_KEY, type TestContext } from './test-support.js'

let t: TestContext
let metrics: ProductMetrics
let app: ReturnType<typeof createApp>

beforeEach(async () => {
  t = await createTestContext({ env: { METRICS_TOKEN: 'scrape-token-0123456789' } })
  metrics = new ProductMetrics()
  app = createApp({ ...t.deps, metrics })
  await t.seedSession('personal', { state: 'open', ownNumber: '628100000000' })
  await t.seedSession('idle', { state: 'closed' })
})
afterEach(() => t.close())

const scrape = async (authorization: Record<string, string>) => {
  const res = await app.request('/metrics', { headers: authorization })
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() }
}

describe('GET /metrics', () => {
  it('is for the API key or METRICS_TOKEN only', async () => {
    expect(await scrape({})).toMatchObject({ status: 401 })
    expect(JSON.parse((await scrape({ authorization: 'Bearer wrong' })).text)).toEqual({
      success: false,
      error: 'Invalid or missing API key',
    })
    expect(await scrape({ 'x-api-key': TEST_API_KEY })).toMatchObject({
      status: 200,
      type: 'text/plain; version=0.0.4; charset=utf-8',
    })
    expect(await scrape({ authorization: 'Bearer scrape-token-0123456789' })).toMatchObject({ status: 200 })
    // The token reads metrics, nothing else.
    const api = await app.request('/api/sessions', {
      headers: { authorization: 'Bearer scrape-token-0123456789' },
    })
    expect(api.status).toBe(401)
  })

  it('counts answers by declared route and status, fast reads included, and sessions by state', async () => {
    const key = { 'x-api-key': TEST_API_KEY }
    await app.request('/api/sessions', { headers: key })
    await app.request('/api/sessions', { headers: key })
    await app.request('/api/sessions/personal/sent-statuses', { headers: key })
    await app.request('/api/sessions/nobody/sent-statuses', { headers: key })
    await app.request('/api/sessions/personal/connection-status')
    const sent = await t.json('/api/sessions/personal/send-status', 'POST', { type: 'text', content: 'hi' })
    expect(sent.status).toBe(200)
    await app.request('/api/sessions/personal/send-status', {
      method: 'POST',
      headers: { ...key, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'text', content: 'hi' }),
    })
    const { text } = await scrape(key)
    const lines = text.split('\n')
    expect(lines).toContain('wst_http_requests_total{method="GET",route="/api/sessions",status="200"} 2')
    expect(lines).toContain(
      'wst_http_requests_total{method="GET",route="/api/sessions/:sessionId/sent-statuses",status="200"} 1',
    )
    expect(lines).toContain(
      'wst_http_requests_total{method="GET",route="/api/sessions/:sessionId/sent-statuses",status="404"} 1',
    )
    expect(lines).toContain(
      'wst_http_requests_total{method="GET",route="/api/sessions/:sessionId/connection-status",status="401"} 1',
    )
    expect(lines).toContain(
      'wst_http_requests_total{method="POST",route="/api/sessions/:sessionId/send-status",status="200"} 1',
    )
    // The command's round trip, by name and outcome.
    expect(lines).toContain('wst_bus_command_seconds_count{command="status.send",outcome="ok"} 1')
    expect(lines).toContain('wst_sessions{state="open"} 1')
    expect(lines).toContain('wst_sessions{state="closed"} 1')
    expect(text).not.toContain('nobody')
    await app.request('/no/such/page')
    expect((await scrape(key)).text).toContain(
      'wst_http_requests_total{method="GET",route="unmatched",status="404"} 1',
    )
    expect(await body(await app.request('/api/sessions', { headers: key }))).toMatchObject({ success: true })
  })
})
