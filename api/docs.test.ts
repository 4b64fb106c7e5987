import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { body, createTestContext, type TestContext } from './test-support.js'

let t: TestContext
beforeEach(async () => {
  t = await createTestContext()
})
afterEach(() => t.close())

const EVERY_ROUTE = [
  'POST /api/sessions',
  'GET /api/sessions',
  'DELETE /api/sessions/{sessionId}',
  'POST /api/sessions/{sessionId}/restart',
  'PUT /api/sessions/{sessionId}/phone-number',
  'GET /api/sessions/{sessionId}/connection-status',
  'GET /api/sessions/{sessionId}/pairing-code',
  'POST /api/sessions/{sessionId}/request-pairing-code',
  'GET /api/sessions/{sessionId}/qr-code',
  'POST /api/sessions/{sessionId}/send-status',
  'GET /api/sessions/{sessionId}/sent-statuses',
  'GET /api/sessions/{sessionId}/status-viewers/{statusId}',
  'DELETE /api/sessions/{sessionId}/delete-status/{statusId}',
  'GET /api/sessions/{sessionId}/analytics/statuses/{statusId}',
  'GET /api/sessions/{sessionId}/analytics/contacts',
  'GET /api/sessions/{sessionId}/analytics/daily',
  'GET /api/sessions/{sessionId}/scheduled-statuses',
  'GET /api/jobs/{jobId}',
  'DELETE /api/sessions/{sessionId}/scheduled-statuses/{scheduledId}',
  'GET /api/sessions/{sessionId}/contacts',
  'POST /api/sessions/{sessionId}/audiences',
  'GET /api/sessions/{sessionId}/audiences',
  'DELETE /api/sessions/{sessionId}/audiences/{audienceId}',
  'POST /api/webhooks',
  'GET /api/webhooks',
  'GET /api/webhooks/{webhookId}',
  'PATCH /api/webhooks/{webhookId}',
  'DELETE /api/webhooks/{webhookId}',
  'GET /api/webhooks/{webhookId}/deliveries',
  'POST /api/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver',
  'POST /api/keys',
  'GET /api/keys',
  'DELETE /api/keys/{keyId}',
  'POST /api/upload-image',
  'POST /api/upload-video',
  'POST /api/uploads',
  'PUT /api/uploads/{filename}',
  'GET /api/health',
  'GET /api/stats',
  'GET /api/storage',
  'GET /api/uploads/{filename}',
]

describe('GET /api/openapi.json', () => {
  it('documents every route with its parameters, body and responses', async () => {
    const res = await t.request('/api/openapi.json')
    expect(res.status).toBe(200)
    const doc = await body(res)
    expect(doc.openapi).toBe('3.1.0')
    expect(doc.info.version).toBe('2.0.0-test')
    const listed = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item as object).map((method) => `${method.toUpperCase()} ${path}`),
    )
    expect(listed.sort()).toEqual([...EVERY_ROUTE].sort())
    const create = doc.paths['/api/sessions'].post
    expect(create.responses).toHaveProperty('201')
    expect(create.responses).toHaveProperty('409')
    expect(create.requestBody.content['application/json'].schema).toBeDefined()
    const viewers = doc.paths['/api/sessions/{sessionId}/status-viewers/{statusId}'].get
    expect(viewers.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`).sort()).toEqual([
      'path:sessionId',
      'path:statusId',
      'query:cursor',
      'query:format',
      'query:limit',
    ])
    expect(Object.keys(viewers.responses['200'].content).sort()).toEqual(['application/json', 'text/csv'])
    expect(doc.paths['/api/upload-image'].post.requestBody.content).toHaveProperty('multipart/form-data')
    expect(doc.components.securitySchemes).toMatchObject({
      ApiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
      Bearer: { type: 'http', scheme: 'bearer' },
    })
    expect(doc.components.schemas).toHaveProperty('Session')
    expect(doc.components.schemas).toHaveProperty('Error')
  })
})

describe('GET /docs', () => {
  it('renders a self-contained reference page without a key', async () => {
    const res = await t.request('/docs', { apiKey: null })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/text\/html/)
    const html = await res.text()
    for (const route of EVERY_ROUTE) expect(html).toContain(route.split(' ')[1])
    // Works offline: no external scripts or styles.
    expect(html).not.toMatch(/<script|<link|https?:\/\//)
  })

  it('says the machine-readable document is public, and it is', async () => {
    const html = await (await t.request('/docs', { apiKey: null })).text()
    expect(html).toContain('<code>GET /api/openapi.json</code> (public, no API key needed)')
    const res = await t.request('/api/openapi.json', { apiKey: null })
    expect(res.status).toBe(200)
    expect((await body(res)).info.description).toContain('except the health check, this document')
  })
})
