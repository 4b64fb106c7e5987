import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createApp } from './app.js'
import type { DashboardAssets, DashboardFile } from './dashboard.js'
import { body, createTestContext, type TestContext } from './test-support.js'

const file = (text: string, contentType: string, immutable: boolean): DashboardFile => ({
  body: new TextEncoder().encode(text),
  gzip: new Uint8Array([0x1f, 0x8b, 1, 2, 3]),
  contentType,
  etag: `"etag-${text.length}"`,
  immutable,
})

const assets: DashboardAssets = {
  file: (path) =>
    ({
      '/': file('<!doctype html><div id="app"></div>', 'text/html; charset=utf-8', false),
      '/assets/app-ABC.js': file('console.log(1)', 'text/javascript; charset=utf-8', true),
    })[path],
  headers: { 'Content-Security-Policy': "default-src 'self'", 'X-Frame-Options': 'DENY' },
}

let t: TestContext
let app: ReturnType<typeof createApp>

beforeEach(async () => {
  // A small anonymous budget: the page's files must not use it up.
  t = await createTestContext({ env: { RATE_LIMIT_ANON_MAX: '2' } })
  app = createApp({ ...t.deps, dashboard: assets })
})
afterEach(() => t.close())

describe('the dashboard at /', () => {
  it('serves the page with its policy, revalidated, and its hashed files cached for good', async () => {
    const page = await app.request('/')
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(page.headers.get('content-security-policy')).toBe("default-src 'self'")
    expect(page.headers.get('x-frame-options')).toBe('DENY')
    expect(page.headers.get('cache-control')).toBe('no-cache')
    expect(await page.text()).toContain('<div id="app">')
    const script = await app.request('/assets/app-ABC.js?v=1')
    expect(script.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    expect(await script.text()).toBe('console.log(1)')
  })

  it('answers 304 to a matching ETag, gzip to a client that takes it, headers only to HEAD', async () => {
    const etag = (await app.request('/')).headers.get('etag')!
    const unchanged = await app.request('/', { headers: { 'if-none-match': `W/${etag}` } })
    expect(unchanged.status).toBe(304)
    expect(await unchanged.text()).toBe('')
    const zipped = await app.request('/', { headers: { 'accept-encoding': 'br, gzip' } })
    expect(zipped.headers.get('content-encoding')).toBe('gzip')
    expect(zipped.headers.get('vary')).toBe('Accept-Encoding')
    expect(new Uint8Array(await zipped.arrayBuffer())).toEqual(new Uint8Array([0x1f, 0x8b, 1, 2, 3]))
    const head = await app.request('/', { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.headers.get('content-length')).toBe(String('<!doctype html><div id="app"></div>'.length))
    expect(await head.text()).toBe('')
  })

  it('costs no rate-limit budget, and leaves everything else to the API', async () => {
    for (let i = 0; i < 5; i++) expect((await app.request('/')).status).toBe(200)
    // The anonymous budget (2) is untouched by the page loads above.
    expect((await app.request('/api/sessions')).status).toBe(401)
    expect((await app.request('/api/sessions')).status).toBe(401)
    expect((await app.request('/api/sessions')).status).toBe(429)
    const unknown = await app.request('/assets/missing.js', { headers: { 'x-api-key': t.config.API_KEY! } })
    expect(unknown.status).toBe(404)
    expect(await body(unknown)).toMatchObject({ success: false })
    const posted = await app.request('/', { method: 'POST', headers: { 'x-api-key': t.config.API_KEY! } })
    expect(posted.status).toBe(404)
  })

  it('is not served when the app has no dashboard (DASHBOARD=false, or Workers)', async () => {
    const res = await t.app.request('/')
    expect(res.status).toBe(404)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
  })
})
