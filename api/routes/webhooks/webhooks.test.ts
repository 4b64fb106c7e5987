import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { newDelivery } from '../../../shared/db/test-support.js'
import { Messages } from '../../../shared/errors.js'
import { EVENT_NAMES } from '../../../shared/events.js'
import { body, createTestContext, type TestContext } from '../../test-support.js'

let t: TestContext
beforeEach(async () => {
  t = await createTestContext({ env: { WEBHOOK_ALLOWED_HOSTS: 'hooks.internal:8080' } })
  await t.seedSession('personal', { state: 'open', ownNumber: '628100000000' })
  await t.seedSession('shop')
})
afterEach(() => t.close())

const register = (input: unknown) => t.json('/api/webhooks', 'POST', input)

/** A delivery as the connector queues it, straight into the database. */
const queueDelivery = async (webhookId: string, n: number, createdAt: number) => {
  await t.repos.webhooks.insertDeliveries([
    newDelivery({
      id: `whd_${n.toString(16).padStart(16, '0')}`,
      webhookId,
      sessionId: 'personal',
      body: JSON.stringify({ id: `whd_${n}`, event: 'status-deleted', data: { n } }),
      createdAt,
    }),
  ])
}

describe('webhooks', () => {
  it('are registered with a secret shown once, listed, read and deleted', async () => {
    const created = await register({
      url: 'https://media.example.com/hook',
      events: ['status-viewers-update', 'status-sent', 'status-sent'],
      sessionId: 'personal',
      description: 'CRM',
    })
    expect(created.status).toBe(201)
    const hook = (await body(created)).data
    expect(hook).toEqual({
      webhookId: expect.stringMatching(/^wh_[a-f0-9]{12}$/),
      url: 'https://media.example.com/hook',
      events: ['status-viewers-update', 'status-sent'],
      sessionId: 'personal',
      description: 'CRM',
      active: true,
      createdAt: expect.any(String),
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9_-]{43}$/),
    })
    const global = (await body(await register({ url: 'https://media.example.com/all' }))).data
    expect(global).toMatchObject({ events: ['*'], sessionId: null, description: null })
    expect(global.secret).not.toBe(hook.secret)

    const { secret: _s1, ...shownHook } = hook
    const { secret: _s2, ...shownGlobal } = global
    const all = await body(await t.request('/api/webhooks'))
    expect(all.data).toEqual([shownGlobal, shownHook])
    expect(JSON.stringify(all)).not.toContain('whsec_')
    const forShop = await body(await t.request('/api/webhooks?sessionId=shop'))
    expect(forShop.data).toEqual([shownGlobal])
    expect((await body(await t.request('/api/webhooks?sessionId=personal'))).data).toHaveLength(2)
    expect(await body(await t.request(`/api/webhooks/${hook.webhookId}`))).toEqual({
      success: true,
      data: shownHook,
    })

    const deleted = await t.request(`/api/webhooks/${hook.webhookId}`, { method: 'DELETE' })
    expect(await body(deleted)).toEqual({
      success: true,
      data: { webhookId: hook.webhookId, message: 'Webhook deleted' },
    })
    const again = await t.request(`/api/webhooks/${hook.webhookId}`, { method: 'DELETE' })
    expect(again.status).toBe(404)
    expect(await body(again)).toEqual({ success: false, error: 'Webhook not found' })
    expect((await body(await t.request('/api/webhooks'))).data).toEqual([shownGlobal])
  })

  it('are changed and paused in place, the secret kept, with the checks of registration', async () => {
    const hook = (await body(await register({ url: 'https://media.example.com/hook' }))).data
    const patch = (input: unknown) => t.json(`/api/webhooks/${hook.webhookId}`, 'PATCH', input)
    const paused = await patch({
      active: false,
      events: ['status-sent', 'status-sent'],
      description: 'Paused for now',
    })
    expect(await body(paused)).toMatchObject({
      success: true,
      data: {
        webhookId: hook.webhookId,
        active: false,
        events: ['status-sent'],
        description: 'Paused for now',
      },
    })
    const moved = await body(await patch({ url: 'https://media.example.com/new', active: true }))
    expect(moved.data).toMatchObject({ url: 'https://media.example.com/new', active: true })
    const stored = await t.repos.webhooks.get(hook.webhookId)
    expect(stored?.secret).toBe(hook.secret)
    const cases: [unknown, number, string][] = [
      [{}, 400, 'Give at least one of url, events, description, active'],
      [{ url: 'http://127.0.0.1/x' }, 400, Messages.urlNonPublic],
      [{ active: 'no' }, 400, 'active must be true or false'],
      [{ events: [] }, 400, 'events must name at least one event (or "*")'],
    ]
    for (const [input, status, error] of cases) {
      const res = await patch(input)
      expect(await body(res), JSON.stringify(input)).toEqual({ success: false, error })
      expect(res.status).toBe(status)
    }
    const missing = await t.json('/api/webhooks/wh_000000000000', 'PATCH', { active: false })
    expect(missing.status).toBe(404)
  })

  it('refuses bad input with clear messages, and targets the rules of media URLs forbid', async () => {
    const cases: [unknown, number, string][] = [
      [{}, 400, 'url is required'],
      [{ url: 'not a url' }, 400, 'url must be a valid http(s) URL'],
      [{ url: 'ftp://media.example.com/x' }, 400, Messages.urlScheme],
      [{ url: 'https://user:pw@media.example.com/x' }, 400, Messages.urlCredentials],
      [{ url: 'http://127.0.0.1:9000/hook' }, 400, Messages.urlNonPublic],
      [{ url: 'http://localhost/hook' }, 400, Messages.urlNonPublic],
      [{ url: 'http://[::1]/hook' }, 400, Messages.urlNonPublic],
      [{ url: 'http://metadata.example.com/hook' }, 400, Messages.urlNonPublic],
      [{ url: 'http://rebind.example.com/hook' }, 400, Messages.urlNonPublic],
      [{ url: 'http://nowhere.example.com/hook' }, 400, Messages.urlUnresolvable],
      // Allowed host, but on another port than the one allowed.
      [{ url: 'http://hooks.internal:9090/x' }, 400, Messages.urlNonPublic],
      [
        { url: 'https://media.example.com/x', events: [] },
        400,
        'events must name at least one event (or "*")',
      ],
      [
        { url: 'https://media.example.com/x', events: ['status-sent', 'message'] },
        400,
        `events.1 must be one of: *, ${EVENT_NAMES.join(', ')}`,
      ],
      [
        { url: 'https://media.example.com/x', events: 'status-sent' },
        400,
        'events must be a list of event names',
      ],
      [{ url: 'https://media.example.com/x', sessionId: 'ghost' }, 404, 'Session not found'],
      [{ url: `https://media.example.com/${'x'.repeat(2048)}` }, 400, 'url must be at most 2048 characters'],
    ]
    for (const [input, status, error] of cases) {
      const res = await register(input)
      expect(await body(res), JSON.stringify(input).slice(0, 80)).toEqual({ success: false, error })
      expect(res.status).toBe(status)
    }
    expect((await body(await t.request('/api/webhooks'))).data).toEqual([])
    // The operator's allowed host may be internal.
    const allowed = await register({ url: 'http://hooks.internal:8080/wa' })
    expect(allowed.status).toBe(201)
  })

  it('pages the delivery log newest first and queues a redelivery of the same body', async () => {
    const hook = (await body(await register({ url: 'https://media.example.com/hook' }))).data
    const base = Date.now() - 60_000
    for (let n = 1; n <= 5; n++) await queueDelivery(hook.webhookId, n, base + n)

    const first = await body(await t.request(`/api/webhooks/${hook.webhookId}/deliveries?limit=2`))
    expect(first.data.map((d: { deliveryId: string }) => d.deliveryId)).toEqual([
      'whd_0000000000000005',
      'whd_0000000000000004',
    ])
    expect(first.data[0]).toEqual({
      deliveryId: 'whd_0000000000000005',
      webhookId: hook.webhookId,
      event: 'status-deleted',
      sessionId: 'personal',
      state: 'pending',
      attempts: 0,
      createdAt: new Date(base + 5).toISOString(),
      lastAttemptAt: null,
      nextAttemptAt: new Date(base + 5).toISOString(),
      responseStatus: null,
      error: null,
      deliveredAt: null,
      redeliveryOf: null,
    })
    const second = await body(
      await t.request(`/api/webhooks/${hook.webhookId}/deliveries?limit=2&cursor=${first.nextCursor}`),
    )
    expect(second.data.map((d: { deliveryId: string }) => d.deliveryId)).toEqual([
      'whd_0000000000000003',
      'whd_0000000000000002',
    ])
    const last = await body(
      await t.request(`/api/webhooks/${hook.webhookId}/deliveries?limit=2&cursor=${second.nextCursor}`),
    )
    expect(last.data).toHaveLength(1)
    expect(last.nextCursor).toBeNull()
    expect((await body(await t.request(`/api/webhooks/${hook.webhookId}/deliveries`))).data).toHaveLength(5)
    await t.client.execute({
      sql: "UPDATE webhook_deliveries SET state = 'failed' WHERE id = ?",
      args: ['whd_0000000000000003'],
    })
    const failed = await body(await t.request(`/api/webhooks/${hook.webhookId}/deliveries?state=failed`))
    expect(failed.data.map((d: { deliveryId: string }) => d.deliveryId)).toEqual(['whd_0000000000000003'])
    const badState = await t.request(`/api/webhooks/${hook.webhookId}/deliveries?state=lost`)
    expect(await body(badState)).toEqual({
      success: false,
      error: 'state must be one of: pending, delivering, delivered, failed',
    })
    const badCursor = await t.request(`/api/webhooks/${hook.webhookId}/deliveries?cursor=nope`)
    expect(badCursor.status).toBe(400)

    const redelivered = await t.request(
      `/api/webhooks/${hook.webhookId}/deliveries/whd_0000000000000002/redeliver`,
      { method: 'POST' },
    )
    expect(redelivered.status).toBe(202)
    const copy = (await body(redelivered)).data
    expect(copy).toMatchObject({ state: 'pending', attempts: 0, redeliveryOf: 'whd_0000000000000002' })
    expect(copy.deliveryId).not.toBe('whd_0000000000000002')
    const stored = await t.repos.webhooks.getDelivery(hook.webhookId, copy.deliveryId)
    const original = await t.repos.webhooks.getDelivery(hook.webhookId, 'whd_0000000000000002')
    expect(stored?.body).toBe(original?.body)

    const missing = await t.request(
      `/api/webhooks/${hook.webhookId}/deliveries/whd_00000000000000ff/redeliver`,
      {
        method: 'POST',
      },
    )
    expect(missing.status).toBe(404)
    expect(await body(missing)).toEqual({ success: false, error: 'Delivery not found' })
    const badId = await t.request('/api/webhooks/nope/deliveries')
    expect(await body(badId)).toEqual({ success: false, error: 'webhookId is not a webhook id' })
    const unknown = await t.request('/api/webhooks/wh_000000000000/deliveries')
    expect(unknown.status).toBe(404)
  })

  it('go with their session: deleting it removes its webhooks and their logs, not the global ones', async () => {
    const own = (await body(await register({ url: 'https://media.example.com/own', sessionId: 'shop' }))).data
    const global = (await body(await register({ url: 'https://media.example.com/all' }))).data
    await queueDelivery(own.webhookId, 1, Date.now())
    await queueDelivery(global.webhookId, 2, Date.now())
    expect((await t.request('/api/sessions/shop', { method: 'DELETE' })).status).toBe(200)
    expect(
      (await body(await t.request('/api/webhooks'))).data.map((w: { webhookId: string }) => w.webhookId),
    ).toEqual([global.webhookId])
    expect(await t.repos.webhooks.deliveries(own.webhookId, 10)).toEqual([])
    expect(await t.repos.webhooks.deliveries(global.webhookId, 10)).toHaveLength(1)
  })

  it('need the API key', async () => {
    for (const [path, method] of [
      ['/api/webhooks', 'GET'],
      ['/api/webhooks', 'POST'],
      ['/api/webhooks/wh_000000000000', 'DELETE'],
      ['/api/webhooks/wh_000000000000/deliveries', 'GET'],
    ] as const) {
      const res = await t.request(path, { method, apiKey: null })
      expect(res.status, `${method} ${path}`).toBe(401)
    }
  })
})
