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
    // The document is public, like the /docs page rendered from it.
    expect((await t.request('/api/openapi.json', { apiKey: null })).status).toBe(200)
  })
})

describe('rate limit', () => {
  it('answers 429 with Retry-After past the limit, counting keyless requests in their own bucket', async () => {
    let now = 1_000_000
    const t = await setup({
      env: { RATE_LIMIT_MAX: '3', RATE_LIMIT_ANON_MAX: '2', RATE_LIMIT_WINDOW_MS: '60000' },
      clock: () => now,
    })
    const first = await t.request('/api/sessions', { apiKey: 'guess-guess-guess' })
    expect(first.status).toBe(401)
    expect(first.headers.get('RateLimit-Limit')).toBe('2')
    expect(first.headers.get('RateLimit-Remaining')).toBe('1')
    expect((await t.request('/api/sessions', { apiKey: null })).status).toBe(401)
    const guessing = await t.request('/api/sessions', { apiKey: 'guess-guess-guess' })
    expect(guessing.status).toBe(429)
    expect(await body(guessing)).toEqual({ success: false, error: Messages.rateLimited })
    // Strangers used up only their own bucket: the key's owner still has the whole budget.
    for (let i = 0; i < 3; i++) {
      const keyed = await t.request('/api/sessions')
      expect(keyed.status).toBe(200)
      expect(keyed.headers.get('RateLimit-Limit')).toBe('3')
      expect(keyed.headers.get('RateLimit-Remaining')).toBe(String(2 - i))
    }
    const limited = await t.request('/api/sessions')
    expect(limited.status).toBe(429)
    expect(await body(limited)).toEqual({ success: false, error: Messages.rateLimited })
    expect(limited.headers.get('Retry-After')).toBe('60')
    expect(limited.headers.get('RateLimit-Remaining')).toBe('0')
    now += 30_000
    expect((await t.request('/api/sessions')).headers.get('Retry-After')).toBe('30')
    now += 30_001
    expect((await t.request('/api/sessions')).status).toBe(200)
    expect((await t.request('/api/sessions', { apiKey: null })).status).toBe(401)
  })

  it('keeps the health check out of rate limiting', async () => {
    const t = await setup({ env: { RATE_LIMIT_MAX: '1', RATE_LIMIT_ANON_MAX: '1' } })
    for (let i = 0; i < 5; i++) {
      for (const method of ['GET', 'HEAD']) {
        const res = await t.request('/api/health', { method, apiKey: i % 2 === 0 ? null : undefined })
        expect(res.status).toBe(200)
        expect(res.headers.get('RateLimit-Limit')).toBeNull()
      }
    }
    expect((await t.request('/api/sessions')).status).toBe(200)
    expect((await t.request('/api/sessions', { apiKey: null })).status).toBe(401)
  })

  it('counts PUTs behind signed upload links in the keyed bucket, not the anonymous one', async () => {
    const t = await setup({ env: { RATE_LIMIT_MAX: '3', RATE_LIMIT_ANON_MAX: '1' } })
    expect((await t.request('/api/sessions', { apiKey: null })).status).toBe(401)
    expect((await t.request('/api/sessions', { apiKey: null })).status).toBe(429)
    // The anonymous budget is spent, yet the signed PUT reaches its own check (here: a bad link).
    const put = await t.request(
      '/api/uploads/1730000000000-abcdef12.png?expires=1&type=image%2Fpng&max=1&sig=x',
      {
        method: 'PUT',
        apiKey: null,
        body: new Uint8Array([1]),
      },
    )
    expect(put.status).toBe(401)
    expect(put.headers.get('RateLimit-Limit')).toBe('3')
  })

  it('keys clients by X-Forwarded-For only behind a trusted proxy', async () => {
    const trusted = await setup({ env: { RATE_LIMIT_MAX: '1', TRUST_PROXY: 'true' } })
    const from = (ip: string) => ({ headers: { 'x-forwarded-for': `198.51.100.7, ${ip}` } })
    expect((await trusted.request('/api/sessions', from('203.0.113.1'))).status).toBe(200)
    expect((await trusted.request('/api/sessions', from('203.0.113.2'))).status).toBe(200)
    expect((await trusted.request('/api/sessions', from('203.0.113.1'))).status).toBe(429)

    const direct = await setup({ env: { RATE_LIMIT_MAX: '1' } })
    expect((await direct.request('/api/sessions', from('203.0.113.1'))).status).toBe(200)
    // Without TRUST_PROXY a forged header does not buy a fresh budget.
    expect((await direct.request('/api/sessions', from('203.0.113.2'))).status).toBe(429)
  })

  it('uses CF-Connecting-IP when there is no Node socket (Workers)', async () => {
    const t = await setup({ env: { RATE_LIMIT_MAX: '1' } })
    const from = (ip: string) => ({ headers: { 'cf-connecting-ip': ip } })
    expect((await t.request('/api/sessions', from('203.0.113.1'))).status).toBe(200)
    expect((await t.request('/api/sessions', from('203.0.113.2'))).status).toBe(200)
    expect((await t.request('/api/sessions', from('203.0.113.1'))).status).toBe(429)
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
    expect(res.headers.get('x-frame-options')).toBe('DENY')
    expect(res.headers.get('x-request-id')).toMatch(/.{8,}/)
    const echoed = await t.request('/api/health', { headers: { 'x-request-id': 'trace-123' } })
    expect(echoed.headers.get('x-request-id')).toBe('trace-123')
  })

  it('echoes a client request id only when it is short and plain', async () => {
    const t = await setup()
    const idFor = async (sent: string) =>
      (await t.request('/api/health', { headers: { 'x-request-id': sent } })).headers.get('x-request-id')
    const longest = `a-${'b'.repeat(62)}`
    expect(await idFor(longest)).toBe(longest)
    for (const sent of [`${longest}c`, 'x'.repeat(500), 'trace 123', '<script>', 'a"b', 'id;rm -rf', 'ü']) {
      const id = await idFor(sent)
      expect(id, sent).not.toBe(sent)
      expect(id).toMatch(/^[\w=-]{8,64}$/)
    }
  })
})
