import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Messages } from '../../../shared/errors.js'
import { hashApiKey } from '../../../shared/security/scoped-keys.js'
import { body, createTestContext, type TestContext } from '../../test-support.js'

let t: TestContext
beforeEach(async () => {
  t = await createTestContext()
  await t.seedSession('a', { state: 'open', ownNumber: '628100000001' })
  await t.seedSession('b', { state: 'open', ownNumber: '628100000002' })
})
afterEach(() => t.close())

const createKey = async (input: unknown) => {
  const res = await t.json('/api/keys', 'POST', input)
  expect(res.status, JSON.stringify(input)).toBe(201)
  return (await body(res)).data as { keyId: string; key: string }
}

/**
 * The policy, route by route: which scope a key needs and which sessions. `path`: the session in
 * the path must be the key's; `all`: only a key for every session; `any`: no session involved (or
 * the answer is narrowed to the key's); `admin-key`: only API_KEY; `public`: no key at all.
 */
const POLICY: Record<string, string> = {
  'POST /api/sessions': 'admin all',
  'GET /api/sessions': 'read any',
  'DELETE /api/sessions/{sessionId}': 'admin path',
  'POST /api/sessions/{sessionId}/restart': 'admin path',
  'PUT /api/sessions/{sessionId}/phone-number': 'admin path',
  'GET /api/sessions/{sessionId}/connection-status': 'read path',
  'GET /api/sessions/{sessionId}/pairing-code': 'read path',
  'POST /api/sessions/{sessionId}/request-pairing-code': 'admin path',
  'GET /api/sessions/{sessionId}/qr-code': 'read path',
  'POST /api/sessions/{sessionId}/send-status': 'send path',
  'GET /api/sessions/{sessionId}/sent-statuses': 'read path',
  'GET /api/sessions/{sessionId}/status-viewers/{statusId}': 'read path',
  'DELETE /api/sessions/{sessionId}/delete-status/{statusId}': 'send path',
  'GET /api/jobs/{jobId}': 'read any',
  'GET /api/sessions/{sessionId}/scheduled-statuses': 'read path',
  'DELETE /api/sessions/{sessionId}/scheduled-statuses/{scheduledId}': 'send path',
  'GET /api/sessions/{sessionId}/analytics/statuses/{statusId}': 'read path',
  'GET /api/sessions/{sessionId}/analytics/contacts': 'read path',
  'GET /api/sessions/{sessionId}/analytics/daily': 'read path',
  'GET /api/sessions/{sessionId}/contacts': 'read path',
  'POST /api/sessions/{sessionId}/audiences': 'send path',
  'GET /api/sessions/{sessionId}/audiences': 'read path',
  'DELETE /api/sessions/{sessionId}/audiences/{audienceId}': 'send path',
  'POST /api/upload-image': 'send any',
  'POST /api/upload-video': 'send any',
  'POST /api/uploads': 'send any',
  'PUT /api/uploads/{filename}': 'public',
  'GET /api/uploads/{filename}': 'read any',
  'GET /api/health': 'public',
  'GET /api/stats': 'read all',
  'GET /api/storage': 'read all',
  'POST /api/webhooks': 'admin all',
  'GET /api/webhooks': 'admin all',
  'GET /api/webhooks/{webhookId}': 'admin all',
  'PATCH /api/webhooks/{webhookId}': 'admin all',
  'DELETE /api/webhooks/{webhookId}': 'admin all',
  'GET /api/webhooks/{webhookId}/deliveries': 'admin all',
  'POST /api/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver': 'admin all',
  'POST /api/keys': 'admin-key',
  'GET /api/keys': 'admin-key',
  'DELETE /api/keys/{keyId}': 'admin-key',
}

const PARAMS: Record<string, string> = {
  statusId: 'st1',
  audienceId: 'aud_000000000000',
  scheduledId: 'sch_000000000000',
  webhookId: 'wh_000000000000',
  deliveryId: 'whd_0000000000000000',
  filename: '0123456789abcdef0123456789abcdef.jpg',
  keyId: 'key_000000000000',
  jobId: 'job_0000000000000000',
}

type KeyKind = { scopes: string[]; sessionIds?: string[] }
const KINDS: Record<string, KeyKind> = {
  'read on a': { scopes: ['read'], sessionIds: ['a'] },
  'send on a': { scopes: ['send'], sessionIds: ['a'] },
  'admin on a': { scopes: ['admin'], sessionIds: ['a'] },
  'read on all': { scopes: ['read'] },
  'send on all': { scopes: ['send'] },
  'admin on all': { scopes: ['admin'] },
}
const RANK: Record<string, number> = { read: 1, send: 2, admin: 3 }

/** The refusal `kind` should get on `route` for session `session`, or null when it may go on. */
const expectedRefusal = (policy: string, kind: KeyKind, session: 'a' | 'b'): string | null => {
  if (policy === 'public') return null
  if (policy === 'admin-key') return Messages.keyNeedsAdminKey
  const [scope, sessions] = policy.split(' ') as [string, string]
  const rank = Math.max(...kind.scopes.map((s) => RANK[s]!))
  if (rank < RANK[scope]!) return `This API key lacks the "${scope}" scope`
  if (sessions === 'all' && kind.sessionIds) return Messages.keyNeedsAllSessions
  if (sessions === 'path' && kind.sessionIds && !kind.sessionIds.includes(session))
    return Messages.keyOtherSession
  return null
}

describe('scoped API keys', () => {
  it('are refused or let through on every route as the policy says, for every kind of key', async () => {
    const doc = await body(await t.request('/api/openapi.json'))
    const routes = Object.entries(doc.paths as Record<string, object>).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    )
    // A new route must say who may call it.
    expect(Object.keys(POLICY).sort()).toEqual(routes.sort())

    const keys = Object.fromEntries(
      await Promise.all(
        Object.entries(KINDS).map(async ([name, kind]) => [name, (await createKey({ name, ...kind })).key]),
      ),
    ) as Record<string, string>
    for (const route of routes) {
      const [method, template] = route.split(' ') as [string, string]
      for (const session of template.includes('{sessionId}') ? (['a', 'b'] as const) : (['a'] as const)) {
        const path = template
          .replace('{sessionId}', session)
          .replace(/\{(\w+)\}/g, (_, name: string) => PARAMS[name] ?? name)
        for (const [name, kind] of Object.entries(KINDS)) {
          const res = await t.request(path, {
            method,
            apiKey: keys[name]!,
            ...(method === 'GET' || method === 'DELETE'
              ? {}
              : { body: '{}', headers: { 'x-api-key': keys[name]!, 'content-type': 'application/json' } }),
          })
          const refusal = expectedRefusal(POLICY[route]!, kind, session)
          const answer = await res.json().catch(() => null)
          const label = `${name}: ${method} ${path}`
          if (refusal) {
            expect({ label, status: res.status, body: answer }).toEqual({
              label,
              status: 403,
              body: { success: false, error: refusal },
            })
          } else {
            expect([401, 403], `${label} → ${res.status} ${JSON.stringify(answer)}`).not.toContain(res.status)
          }
        }
      }
    }
  })

  it('are shown once, stored as a digest, listed with their last use, and stop working once revoked', async () => {
    const created = await createKey({ name: 'Reports', scopes: ['read'], sessionIds: ['a', 'a'] })
    expect(created).toMatchObject({
      keyId: expect.stringMatching(/^key_[a-f0-9]{12}$/),
      key: expect.stringMatching(/^wsk_[A-Za-z0-9_-]{43}$/),
      name: 'Reports',
      scopes: ['read'],
      sessionIds: ['a'],
      lastUsedAt: null,
      revokedAt: null,
    })
    const stored = await t.client.execute('SELECT * FROM api_keys')
    expect(JSON.stringify(stored.rows)).not.toContain(created.key)
    expect(stored.rows[0]?.key_hash).toBe(await hashApiKey(created.key))

    // The session list is narrowed to the key's sessions (also where the list is answered from memory).
    const listed = await t.request('/api/sessions', { apiKey: created.key })
    expect(listed.status).toBe(200)
    expect((await body(listed)).data.map((s: { sessionId: string }) => s.sessionId)).toEqual(['a'])
    const all = await body(await t.request('/api/sessions'))
    expect(all.data.map((s: { sessionId: string }) => s.sessionId).sort()).toEqual(['a', 'b'])

    const keys = await body(await t.request('/api/keys'))
    expect(JSON.stringify(keys)).not.toContain(created.key)
    expect(keys.data[0]).toMatchObject({ keyId: created.keyId, keyPrefix: created.key.slice(0, 10) })
    expect(keys.data[0].lastUsedAt).not.toBeNull()

    const revoked = await t.request(`/api/keys/${created.keyId}`, { method: 'DELETE' })
    expect(await body(revoked)).toEqual({
      success: true,
      data: { keyId: created.keyId, message: 'API key revoked' },
    })
    const after = await t.request('/api/sessions/a/sent-statuses', { apiKey: created.key })
    expect(after.status).toBe(401)
    expect(await body(after)).toEqual({ success: false, error: Messages.unauthorized })
    expect((await t.request(`/api/keys/${created.keyId}`, { method: 'DELETE' })).status).toBe(404)
    expect((await body(await t.request('/api/keys'))).data[0].revokedAt).not.toBeNull()
    // A made-up key of the same shape is just a wrong key.
    const made = await t.request('/api/sessions', { apiKey: `wsk_${'A'.repeat(43)}` })
    expect(made.status).toBe(401)
  })

  it('refuses bad input with clear messages', async () => {
    const cases: [unknown, number, string][] = [
      [{ scopes: ['read'] }, 400, 'name is required'],
      [{ name: 'x', scopes: [] }, 400, 'scopes must name at least one of: read, send, admin'],
      [{ name: 'x', scopes: ['write'] }, 400, 'scopes.0 must be one of: read, send, admin'],
      [
        { name: 'x', scopes: ['read'], sessionIds: [] },
        400,
        'sessionIds must name at least one session (leave it out for every session)',
      ],
      [{ name: 'x', scopes: ['read'], sessionIds: ['ghost'] }, 404, 'Session not found'],
    ]
    for (const [input, status, error] of cases) {
      const res = await t.json('/api/keys', 'POST', input)
      expect(await body(res), JSON.stringify(input)).toEqual({ success: false, error })
      expect(res.status).toBe(status)
    }
  })
})
