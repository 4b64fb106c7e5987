import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { verifyWebhookSignature, type WebhookDelivery } from '../../client/webhooks.js'
import type { Viewer } from '../../shared/schemas.js'
import { WebhookReceiver } from '../support/webhook-receiver.js'
import { EVENTUALLY, linkByQr, MODES, startTestbed, type Testbed } from './harness.js'

interface Registered {
  webhookId: string
  secret: string
}

interface DeliveryInfo {
  deliveryId: string
  event: string
  state: string
  attempts: number
  responseStatus: number | null
}

/** Webhooks against a local receiver: what the phones do reaches it, signed, retried, logged. */
describe.each(MODES)('webhooks (%s)', (mode) => {
  let bed: Testbed
  let receiver: WebhookReceiver
  let quietReceiver: WebhookReceiver

  beforeEach(async () => {
    bed = await startTestbed({ mode })
    receiver = await WebhookReceiver.start()
    quietReceiver = await WebhookReceiver.start()
  })

  afterEach(async () => {
    await bed?.close()
    await receiver?.close()
    await quietReceiver?.close()
  })

  it('delivers sends and views signed, retries a refusal, logs every attempt and redelivers', async () => {
    const { sim } = bed
    const owner = sim.createAccount({ phone: '15550020001' })
    const alice = sim.createAccount({ phone: '15550020002' })
    const bob = sim.createAccount({ phone: '15550020003' })
    const product = await bed.startProduct({
      // The receiver is on this machine: the operator allows its host (else refused as private).
      env: {
        WEBHOOK_ALLOWED_HOSTS: `127.0.0.1:${receiver.port},127.0.0.1:${quietReceiver.port}`,
        WEBHOOK_RETRY_BASE_MS: '200',
        // Secrets sealed at rest by the API, opened by the connector that delivers.
        AUTH_ENCRYPTION_KEY: 'a'.repeat(64),
      },
    })
    await linkByQr(product, sim, { sessionId: 'hooked', phone: owner.phone })
    const register = async (input: Record<string, unknown>) => {
      const created = await product.api.post<Registered>('/api/webhooks', input)
      expect(created.status).toBe(201)
      return created.data
    }
    const hook = await register({ url: receiver.url, events: ['status-sent', 'status-viewers-update'] })
    // Another session's webhook, for all its events: it hears nothing of "hooked".
    expect(
      (
        await product.api.post('/api/sessions', {
          sessionId: 'quiet',
          sessionName: 'Quiet',
          authMethod: 'qrcode',
        })
      ).status,
    ).toBe(201)
    const quiet = await register({ url: quietReceiver.url, sessionId: 'quiet' })
    const stored = await product.db.execute({
      sql: 'SELECT secret FROM webhooks WHERE id = ?',
      args: [hook.webhookId],
    })
    expect(String(stored.rows[0]?.secret)).toMatch(/^enc1:/)
    expect(String(stored.rows[0]?.secret)).not.toContain(hook.secret)
    const listed = await product.api.get<{ webhookId: string }[]>('/api/webhooks?sessionId=hooked')
    expect(listed.data.map((w) => w.webhookId)).toEqual([hook.webhookId])

    // The receiver refuses the first delivery: it comes again after the backoff.
    receiver.answer({ status: 503 })
    const sent = await product.api.post<{ statusId: string; waMessageId: string }>(
      '/api/sessions/hooked/send-status',
      {
        type: 'text',
        content: 'Webhooks see this',
        targetNumbers: `${alice.phone},${bob.phone}`,
      },
    )
    expect(sent.status).toBe(200)
    await vi.waitFor(() => expect(sim.receivedStatuses(alice.phone)).toHaveLength(1), EVENTUALLY)
    await sim.view(alice.phone, owner.phone, sent.data.waMessageId)

    await vi.waitFor(async () => {
      expect(receiver.bodies('status-sent').length).toBeGreaterThanOrEqual(2)
      expect(receiver.bodies('status-viewers-update').length).toBeGreaterThanOrEqual(1)
    }, EVENTUALLY)
    const [refused, retried] = receiver.received.filter((r) => JSON.parse(r.body).event === 'status-sent')
    expect(retried!.body).toBe(refused!.body)
    expect(retried!.headers['x-webhook-attempt']).toBe('2')
    const statusSent = JSON.parse(retried!.body) as Extract<WebhookDelivery, { event: 'status-sent' }>
    expect(statusSent).toMatchObject({
      event: 'status-sent',
      webhookId: hook.webhookId,
      sessionId: 'hooked',
      data: { statusId: sent.data.statusId, waMessageId: sent.data.waMessageId, contactCount: 2 },
    })
    const views =
      receiver.bodies<Extract<WebhookDelivery, { event: 'status-viewers-update' }>>('status-viewers-update')
    const newViewers = views.flatMap((v) => v.data.newViewers as Viewer[]).map((v) => v.number)
    expect(newViewers).toEqual([alice.phone])
    expect(views[0]?.data.statusId).toBe(sent.data.statusId)
    for (const delivery of receiver.received) {
      const header = delivery.headers['x-webhook-signature'] as string
      expect(await verifyWebhookSignature({ secret: hook.secret, header, body: delivery.body })).toBe(true)
      expect(await verifyWebhookSignature({ secret: quiet.secret, header, body: delivery.body })).toBe(false)
      expect(delivery.headers['x-webhook-id']).toBe(hook.webhookId)
    }

    const log = async () =>
      (await product.api.get<DeliveryInfo[]>(`/api/webhooks/${hook.webhookId}/deliveries`)).data
    await vi.waitFor(async () => {
      const entries = await log()
      expect(entries.map((d) => [d.event, d.state])).toEqual([
        ['status-viewers-update', 'delivered'],
        ['status-sent', 'delivered'],
      ])
      expect(entries[1]).toMatchObject({ attempts: 2, responseStatus: 204 })
    }, EVENTUALLY)
    // Its own session's events do reach it.
    expect((await product.api.post('/api/sessions/quiet/restart')).status).toBe(200)
    await vi.waitFor(() => expect(quietReceiver.bodies('qr-code').length).toBeGreaterThan(0), EVENTUALLY)
    expect(new Set(quietReceiver.bodies().map((b) => b.sessionId))).toEqual(new Set(['quiet']))
    const quietLog = await product.api.get<DeliveryInfo[]>(`/api/webhooks/${quiet.webhookId}/deliveries`)
    expect(quietLog.data.length).toBeGreaterThan(0)

    // Redelivery: the same body (same `id`), as a new delivery in the log.
    const [viewed] = await log()
    const again = await product.api.post<DeliveryInfo>(
      `/api/webhooks/${hook.webhookId}/deliveries/${viewed!.deliveryId}/redeliver`,
    )
    expect(again.status).toBe(202)
    await vi.waitFor(() => expect(receiver.bodies('status-viewers-update')).toHaveLength(2), EVENTUALLY)
    const [original, copy] = receiver.bodies('status-viewers-update')
    expect(copy).toEqual(original)
    await vi.waitFor(async () => {
      const entries = await log()
      expect(entries[0]).toMatchObject({ deliveryId: again.data.deliveryId, state: 'delivered', attempts: 1 })
    }, EVENTUALLY)
  })
})
