import { afterEach, describe, expect, it } from 'vitest'
import { Messages } from '../shared/errors.js'
import { body, createTestContext, TEST_API_KEY, type TestContext } from './test-support.js'

const contexts: TestContext[] = []
const setup = async (options: Parameters<typeof createTestContext>[0] = {}) => {
  const t = await createTestContext(options)
  contexts.push(t)
  return t
}
afterEach(async () => {
  await Promise.all(contexts.splice(0).map((t) => t.close()))
})

/** Every operation in the generated document, as [METHOD, concrete path]. */
const operations = async (t: TestContext) => {
  const doc = await body(await t.request('/api/openapi.json'))
  return Object.entries(doc.paths as Record<string, Record<string, { security?: unknown[] }>>).flatMap(
    ([path, item]) =>
      Object.entries(item).map(([method, op]) => ({
        method: method.toUpperCase(),
        path: path
          .replace('{sessionId}', 'personal')
          .replace('{statusId}', '1')
          .replace('{filename}', '1700000000000-abcdef12.png'),
        isPublic: Array.isArray(op.security) && op.security.length === 0,
      })),
  )
}

describe('API key', () => {
  it('accepts x-api-key and Authorization: Bearer', async () => {
    const t = await setup()
    expect((await t.request('/api/sessions')).status).toBe(200)
    expect(
      (await t.request('/api/sessions', { headers: { authorization: `Bearer ${TEST_API_KEY}` } })).status,
    ).toBe(200)
  })

  it('guards every route but the health check and the signed upload PUT', async () => {
    const t = await setup()
    const ops = await operations(t)
    expect(
      ops
        .filter((op) => op.isPublic)
        .map((op) => `${op.method} ${op.path}`)
        .sort(),
    ).toEqual(['GET /api/health', 'PUT /api/uploads/1700000000000-abcdef12.png'])
    for (const op of ops.filter((o) => !o.isPublic)) {
      for (const apiKey of [null, 'wrong-key-but-long-enough', `${TEST_API_KEY}x`]) {
        const res = await t.request(op.path, { method: op.method, apiKey })
        expect(res.status, `${op.method} ${op.path} with ${apiKey}`).toBe(401)
        expect(await body(res)).toEqual({ success: false, error: Messages.unauthorized })
      }
    }
    expect((await t.request('/api/openapi.json', { apiKey: null })).status).toBe(401)
  })
})

describe('rate limit', () => {
  it('answers 429 with Retry-After past the limit, counting unauthenticated requests too', async () => {
    let now = 1_000_000
    const t = await setup({ env: { RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '60000' }, clock: () => now })
    const first = await t.request('/api/sessions', { apiKey: 'guess-guess-guess' })
    expect(first.status).toBe(401)
    expect(first.headers.get('RateLimit-Limit')).toBe('3')
    expect(first.headers.get('RateLimit-Remaining')).toBe('2')
    await t.request('/api/sessions', { apiKey: 'guess-guess-guess' })
    expect((await t.request('/api/sessions')).status).toBe(200)
    const limited = await t.request('/api/sessions')
    expect(limited.status).toBe(429)
    expect(await body(limited)).toEqual({ success: false, error: Messages.rateLimited })
    expect(limited.headers.get('Retry-After')).toBe('60')
    expect(limited.headers.get('RateLimit-Remaining')).toBe('0')
    now += 30_000
    expect((await t.request('/api/health')).headers.get('Retry-After')).toBe('30')
    now += 30_001
    expect((await t.request('/api/sessions')).status).toBe(200)
  })

  it('keys clients by X-Forwarded-For only behind a trusted proxy', async () => {
    const trusted = await setup({ env: { RATE_LIMIT_MAX: '1', TRUST_PROXY: 'true' } })
    const from = (ip: string) => ({ headers: { 'x-forwarded-for': `198.51.100.7, ${ip}` } })
    expect((await trusted.request('/api/health', from('203.0.113.1'))).status).toBe(200)
    expect((await trusted.request('/api/health', from('203.0.113.2'))).status).toBe(200)
    expect((await trusted.request('/api/health', from('203.0.113.1'))).status).toBe(429)

    const direct = await setup({ env: { RATE_LIMIT_MAX: '1' } })
    expect((await direct.request('/api/health', from('203.0.113.1'))).status).toBe(200)
    // Without TRUST_PROXY a forged header does not buy a fresh budget.
    expect((await direct.request('/api/health', from('203.0.113.2'))).status).toBe(429)
  })

  it('uses CF-Connecting-IP when there is no Node socket (Workers)', async () => {
    const t = await setup({ env: { RATE_LIMIT_MAX: '1' } })
    const from = (ip: string) => ({ headers: { 'cf-connecting-ip': ip } })
    expect((await t.request('/api/health', from('203.0.113.1'))).status).toBe(200)
    expect((await t.request('/api/health', from('203.0.113.2'))).status).toBe(200)
    expect((await t.request('/api/health', from('203.0.113.1'))).status).toBe(429)
  })
})

describe('error model', () => {
  it('answers 404 with the same body for unknown routes', async () => {
    const t = await setup()
    const res = await t.request('/api/nothing-here')
    expect(res.status).toBe(404)
    expect(await body(res)).toEqual({ success: false, error: 'Not found' })
    expect((await t.request('/api/nothing-here', { apiKey: null })).status).toBe(401)
    expect((await t.request('/elsewhere', { apiKey: null })).status).toBe(404)
  })

  it('hides unexpected failures behind a bare 500', async () => {
    const t = await setup({
      wrapRepos: (repos) => ({
        ...repos,
        sessions: {
          ...repos.sessions,
          list: async () => {
            throw new Error('SQLITE_CORRUPT: /var/data/secret-path.db')
          },
        },
      }),
    })
    const res = await t.request('/api/sessions')
    expect(res.status).toBe(500)
    const text = await res.text()
    expect(JSON.parse(text)).toEqual({ success: false, error: Messages.internal })
    expect(text).not.toMatch(/SQLITE|secret|at /)
  })

  it('refuses an oversized JSON body with 413 instead of buffering it', async () => {
    const t = await setup()
    const res = await t.json('/api/sessions', 'POST', {
      sessionId: 'a',
      sessionName: 'x'.repeat(2 * 1024 * 1024),
    })
    expect(res.status).toBe(413)
    expect((await body(res)).success).toBe(false)
  })
})

describe('response headers', () => {
  it('sets secure headers and a request id', async () => {
    const t = await setup()
    const res = await t.request('/api/health')
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN')
    expect(res.headers.get('x-request-id')).toMatch(/.{8,}/)
    const echoed = await t.request('/api/health', { headers: { 'x-request-id': 'trace-123' } })
    expect(echoed.headers.get('x-request-id')).toBe('trace-123')
  })
})
