import pino from 'pino'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { verifyWebhookSignature, type WebhookDelivery } from '../../client/webhooks.js'
import { EventHub } from '../../shared/bus/types.js'
import { createRepositories } from '../../shared/db/index.js'
import { newDelivery, openTestDatabase, type TestDatabase } from '../../shared/db/test-support.js'
import type { Repositories, WebhookRecord } from '../../shared/db/types.js'
import { Messages } from '../../shared/errors.js'
import { sealWithWebCrypto, webhookSecretContext } from '../../shared/security/web-seal.js'
import { WebhookReceiver } from '../../tests/support/webhook-receiver.js'
import { createValueCipher } from '../auth/auth-cipher.js'
import { WebhookDeliverer, type WebhookDelivererDeps } from './webhook-deliverer.js'
import { WebhookDispatcher } from './webhook-dispatcher.js'

const SECRET = 'whsec_test-secret-for-signatures'
const SOON = { timeout: 10_000, interval: 20 }

let db: TestDatabase | undefined
const stops: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop()
  await db?.cleanup()
  db = undefined
})

const webhook = (url: string, overrides: Partial<WebhookRecord> = {}): WebhookRecord => ({
  id: `wh_${Math.random().toString(16).slice(2, 14).padEnd(12, '0')}`,
  sessionId: null,
  url,
  events: ['*'],
  secret: SECRET,
  description: null,
  active: true,
  createdAt: Date.now(),
  ...overrides,
})

/** A dispatcher and deliverers over one real database, like connectors sharing it. */
const setup = async (options: Partial<WebhookDelivererDeps> = {}, deliverers = 1) => {
  db = await openTestDatabase()
  const repos: Repositories = createRepositories(db.client)
  const events = new EventHub()
  const logger = pino({ level: 'silent' })
  const running = Array.from(
    { length: deliverers },
    () =>
      new WebhookDeliverer({
        repos: createRepositories(db!.client),
        logger,
        now: Date.now,
        pollMs: 50,
        concurrency: 4,
        maxAttempts: 4,
        retry: { baseMs: 150, maxMs: 2_000, jitter: 0 },
        timeoutMs: 1_000,
        allowedHosts: ['127.0.0.1'],
        logRetentionMs: 86_400_000,
        ...options,
      }),
  )
  const dispatcher = new WebhookDispatcher({
    repos,
    events,
    logger,
    now: Date.now,
    queued: () => {
      for (const deliverer of running) deliverer.runSoon()
    },
  })
  dispatcher.start()
  for (const deliverer of running) deliverer.start()
  stops.push(async () => {
    await dispatcher.stop()
    await Promise.all(running.map((d) => d.stop()))
  })
  const receiver = await WebhookReceiver.start()
  stops.push(() => receiver.close())
  const log = async (webhookId: string) => repos.webhooks.deliveries(webhookId, 100)
  return { repos, events, receiver, log, deliverers: running }
}

const sent = (sessionId: string, statusId = 'st1') =>
  ({
    event: 'status-deleted',
    payload: { sessionId, statusId },
  }) as const

describe('webhook deliveries', () => {
  it('POSTs each matching event once, signed over timestamp and body, with the event as Socket.IO has it', async () => {
    const { repos, events, receiver, log } = await setup()
    const all = webhook(receiver.url)
    const onlyDeleted = webhook(receiver.url, { sessionId: 'shop', events: ['session-deleted'] })
    await repos.webhooks.insert(all)
    await repos.webhooks.insert(onlyDeleted)

    await events.publish(sent('shop'))
    await events.publish({ event: 'session-deleted', payload: { sessionId: 'other' } })
    await events.publish({ event: 'session-deleted', payload: { sessionId: 'shop' } })

    await vi.waitFor(() => expect(receiver.received).toHaveLength(4), SOON)
    const byHook = (id: string) =>
      receiver.received.filter((r) => r.headers['x-webhook-id'] === id).map((r) => JSON.parse(r.body))
    expect(byHook(all.id).map((b) => [b.event, b.sessionId])).toEqual(
      expect.arrayContaining([
        ['status-deleted', 'shop'],
        ['session-deleted', 'other'],
        ['session-deleted', 'shop'],
      ]),
    )
    expect(byHook(onlyDeleted.id).map((b) => [b.event, b.sessionId])).toEqual([['session-deleted', 'shop']])

    for (const delivery of receiver.received) {
      expect(delivery.headers['content-type']).toBe('application/json')
      expect(
        await verifyWebhookSignature({
          secret: SECRET,
          header: delivery.headers['x-webhook-signature'] as string,
          body: delivery.body,
        }),
      ).toBe(true)
      // The signature covers the body: one changed byte and it no longer verifies.
      const tampered = delivery.body.replace('"sessionId"', '"sessionID"')
      expect(
        await verifyWebhookSignature({
          secret: SECRET,
          header: delivery.headers['x-webhook-signature'] as string,
          body: tampered,
        }),
      ).toBe(false)
      expect(
        await verifyWebhookSignature({
          secret: 'whsec_another',
          header: delivery.headers['x-webhook-signature'] as string,
          body: delivery.body,
        }),
      ).toBe(false)
      const body = JSON.parse(delivery.body) as WebhookDelivery
      expect(delivery.headers['x-webhook-delivery']).toBe(body.id)
      expect(delivery.headers['x-webhook-event']).toBe(body.event)
      expect(delivery.headers['x-webhook-attempt']).toBe('1')
    }
    const deleted = byHook(all.id).find((b) => b.event === 'status-deleted')
    expect(deleted.data).toEqual({ sessionId: 'shop', statusId: 'st1' })
    // An old signature is refused (replay): the timestamp is signed with the body.
    const first = receiver.received[0]!
    const header = first.headers['x-webhook-signature'] as string
    const t = Number(/t=(\d+)/.exec(header)?.[1])
    expect(Math.abs(t - Date.now() / 1000)).toBeLessThan(5)
    expect(await verifyWebhookSignature({ secret: SECRET, header, body: first.body, now: t + 301 })).toBe(
      false,
    )

    await vi.waitFor(async () => {
      const entries = await log(all.id)
      expect(entries.map((d) => d.state)).toEqual(['delivered', 'delivered', 'delivered'])
      expect(entries.every((d) => d.attempts === 1 && d.responseStatus === 204)).toBe(true)
    }, SOON)
  })

  it('queues nothing for a paused webhook, and delivers again once it is resumed', async () => {
    const { repos, events, receiver, log } = await setup()
    const hook = webhook(receiver.url, { active: false, events: ['status-deleted'] })
    // Tells when the events of one moment have been queued: it hears them in the same batch.
    const marker = webhook(receiver.url, { events: ['session-deleted'] })
    await repos.webhooks.insert(hook)
    await repos.webhooks.insert(marker)
    await events.publish(sent('s', 'while-paused'))
    await events.publish({ event: 'session-deleted', payload: { sessionId: 's' } })
    await vi.waitFor(() => expect(receiver.bodies('session-deleted')).toHaveLength(1), SOON)
    await repos.webhooks.update(hook.id, { active: true })
    await events.publish(sent('s', 'after'))
    await vi.waitFor(() => expect(receiver.bodies('status-deleted')).toHaveLength(1), SOON)
    expect(receiver.bodies('status-deleted').map((b) => (b.data as { statusId: string }).statusId)).toEqual([
      'after',
    ])
    expect(await log(hook.id)).toHaveLength(1)
  })

  it('signs with a secret sealed at rest, and says so when it cannot be opened', async () => {
    const key = Uint8Array.from({ length: 32 }, (_, i) => i)
    const cipher = createValueCipher(key)
    const { repos, events, receiver, log } = await setup({
      maxAttempts: 1,
      openSecret: (stored, id) => cipher.open(stored, webhookSecretContext(id)),
    })
    const sealedHook = webhook(receiver.url, { events: ['status-deleted'] })
    await repos.webhooks.insert({
      ...sealedHook,
      secret: await sealWithWebCrypto(key, SECRET, webhookSecretContext(sealedHook.id)),
    })
    const otherKey = webhook(receiver.url, { events: ['session-deleted'] })
    await repos.webhooks.insert({
      ...otherKey,
      secret: await sealWithWebCrypto(
        Uint8Array.from(key).reverse(),
        SECRET,
        webhookSecretContext(otherKey.id),
      ),
    })
    await events.publish(sent('s'))
    await events.publish({ event: 'session-deleted', payload: { sessionId: 's' } })
    await vi.waitFor(() => expect(receiver.received).toHaveLength(1), SOON)
    const [delivery] = receiver.received
    expect(
      await verifyWebhookSignature({
        secret: SECRET,
        header: delivery!.headers['x-webhook-signature'] as string,
        body: delivery!.body,
      }),
    ).toBe(true)
    await vi.waitFor(async () => {
      const [entry] = await log(otherKey.id)
      expect(entry).toMatchObject({
        state: 'failed',
        lastError: expect.stringContaining('signing secret cannot be read'),
      })
    }, SOON)
  })

  it('retries a failed delivery with growing delays and the same body, then records it delivered', async () => {
    const { repos, events, receiver, log } = await setup()
    const hook = webhook(receiver.url)
    await repos.webhooks.insert(hook)
    receiver.answer({ status: 500 }, { status: 502 })
    await events.publish(sent('s'))

    await vi.waitFor(() => expect(receiver.received).toHaveLength(3), SOON)
    const [a, b, c] = receiver.received as [
      (typeof receiver.received)[0],
      (typeof receiver.received)[0],
      (typeof receiver.received)[0],
    ]
    expect(new Set(receiver.received.map((r) => r.body)).size).toBe(1)
    expect(receiver.received.map((r) => r.headers['x-webhook-attempt'])).toEqual(['1', '2', '3'])
    // Base 150 ms, doubling (no jitter here): about 150 ms, then about 300 ms.
    expect(b.receivedAt - a.receivedAt).toBeGreaterThanOrEqual(140)
    expect(c.receivedAt - b.receivedAt).toBeGreaterThanOrEqual(290)
    await vi.waitFor(async () => {
      const [entry] = await log(hook.id)
      expect(entry).toMatchObject({ state: 'delivered', attempts: 3, responseStatus: 204, lastError: null })
      expect(entry?.deliveredAt).not.toBeNull()
    }, SOON)
  })

  it("waits as long as a 429's Retry-After asks", async () => {
    const { repos, events, receiver } = await setup()
    await repos.webhooks.insert(webhook(receiver.url))
    receiver.answer({ status: 429, headers: { 'retry-after': '1' } })
    await events.publish(sent('s'))
    await vi.waitFor(() => expect(receiver.received).toHaveLength(2), SOON)
    const [first, second] = receiver.received
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(950)
  })

  it('marks a delivery failed after the last attempt, with the reason', async () => {
    const { repos, events, receiver, log } = await setup({
      maxAttempts: 2,
      retry: { baseMs: 50, maxMs: 100, jitter: 0 },
    })
    const hook = webhook(receiver.url)
    await repos.webhooks.insert(hook)
    receiver.answer({ status: 410 }, { status: 503 })
    await events.publish(sent('s'))
    await vi.waitFor(async () => {
      const [entry] = await log(hook.id)
      expect(entry).toMatchObject({
        state: 'failed',
        attempts: 2,
        responseStatus: 503,
        lastError: 'HTTP 503',
      })
    }, SOON)
    expect(receiver.received).toHaveLength(2)
  })

  it('refuses private and local addresses at delivery when the host is not allowed', async () => {
    const { repos, events, receiver, log } = await setup({ allowedHosts: [] })
    const literal = webhook(receiver.url)
    // A name that resolves to a loopback address: refused when the connection is made (rebinding).
    const named = webhook(receiver.url.replace('127.0.0.1', 'localhost'))
    await repos.webhooks.insert(literal)
    await repos.webhooks.insert(named)
    await events.publish(sent('s'))
    await vi.waitFor(async () => {
      for (const hook of [literal, named]) {
        const [entry] = await log(hook.id)
        expect(entry?.lastError).toBe(Messages.urlNonPublic)
        expect(entry?.responseStatus).toBeNull()
      }
    }, SOON)
    expect(receiver.received).toHaveLength(0)
  })

  it('does not follow a redirect and gives up on a receiver that never answers', async () => {
    const { repos, events, receiver, log } = await setup({ maxAttempts: 1, timeoutMs: 300 })
    const redirected = webhook(receiver.url)
    await repos.webhooks.insert(redirected)
    receiver.answer({ status: 307, headers: { location: 'http://169.254.169.254/latest' } })
    await events.publish(sent('s'))
    await vi.waitFor(async () => {
      const [entry] = await log(redirected.id)
      expect(entry).toMatchObject({
        state: 'failed',
        lastError: 'Redirects are not followed (HTTP 307)',
        responseStatus: 307,
      })
    }, SOON)
    expect(receiver.received).toHaveLength(1)

    receiver.answer('hang')
    await events.publish(sent('s', 'st2'))
    await vi.waitFor(async () => {
      const [entry] = await log(redirected.id)
      expect(entry).toMatchObject({
        state: 'failed',
        lastError: 'No answer within 300 ms',
        responseStatus: null,
      })
    }, SOON)
  })

  it('shares the queue between deliverers: each delivery arrives once', async () => {
    const { repos, events, receiver, log } = await setup({}, 3)
    const hook = webhook(receiver.url)
    await repos.webhooks.insert(hook)
    for (let i = 0; i < 60; i++) await events.publish(sent('s', `st${i}`))
    await vi.waitFor(async () => {
      const entries = await log(hook.id)
      expect(entries).toHaveLength(60)
      expect(entries.every((d) => d.state === 'delivered')).toBe(true)
    }, SOON)
    const statusIds = receiver.bodies().map((b) => (b.data as { statusId: string }).statusId)
    expect(statusIds).toHaveLength(60)
    expect(new Set(statusIds).size).toBe(60)
  })

  it('tries again a delivery whose deliverer died mid-attempt, once its lease ran out', async () => {
    db = await openTestDatabase()
    const repos = createRepositories(db.client)
    const receiver = await WebhookReceiver.start()
    stops.push(() => receiver.close())
    const hook = webhook(receiver.url)
    await repos.webhooks.insert(hook)
    const now = Date.now()
    await repos.webhooks.insertDeliveries([
      newDelivery({
        id: 'whd_00000000000000aa',
        webhookId: hook.id,
        body: '{"event":"status-deleted"}',
        createdAt: now,
      }),
    ])
    // The dead deliverer's claim: leased for a moment, never finished.
    expect(await repos.webhooks.claimDue(now, 10, now + 200)).toHaveLength(1)
    expect(await repos.webhooks.claimDue(now + 100, 10, now + 300)).toHaveLength(0)
    const deliverer = new WebhookDeliverer({
      repos,
      logger: pino({ level: 'silent' }),
      now: Date.now,
      pollMs: 50,
      concurrency: 2,
      maxAttempts: 3,
      retry: { baseMs: 100, maxMs: 100, jitter: 0 },
      timeoutMs: 1_000,
      allowedHosts: ['127.0.0.1'],
      logRetentionMs: 86_400_000,
    })
    deliverer.start()
    stops.push(() => deliverer.stop())
    await vi.waitFor(() => expect(receiver.received).toHaveLength(1), SOON)
    expect(receiver.received[0]?.headers['x-webhook-attempt']).toBe('2')
    await vi.waitFor(
      async () => expect((await repos.webhooks.deliveries(hook.id, 10))[0]?.state).toBe('delivered'),
      SOON,
    )
  })
})

describe('the delivery log', () => {
  it('is pruned of finished deliveries past its age, never of ones still to go', async () => {
    db = await openTestDatabase()
    const repos = createRepositories(db.client)
    const hook = webhook('https://hooks.example.com/x')
    await repos.webhooks.insert(hook)
    const row = (id: string, createdAt: number) =>
      newDelivery({ id, webhookId: hook.id, createdAt, nextAttemptAt: createdAt + 60_000_000 })
    const old = 1_000
    const recent = 9_000
    await repos.webhooks.insertDeliveries([
      row('whd_old-delivered', old),
      row('whd_old-failed', old),
      row('whd_old-pending', old),
      row('whd_new-delivered', recent),
    ])
    for (const [id, state] of [
      ['whd_old-delivered', 'delivered'],
      ['whd_old-failed', 'failed'],
      ['whd_new-delivered', 'delivered'],
    ] as const) {
      await db.client.execute({
        sql: 'UPDATE webhook_deliveries SET state = ? WHERE id = ?',
        args: [state, id],
      })
    }
    expect(await repos.webhooks.pruneDeliveries(5_000)).toBe(2)
    expect((await repos.webhooks.deliveries(hook.id, 10)).map((d) => d.id)).toEqual([
      'whd_new-delivered',
      'whd_old-pending',
    ])
  })
})
