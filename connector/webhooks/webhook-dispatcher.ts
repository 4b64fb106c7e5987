import type { Logger } from 'pino'
import type { EventSubscriber, Unsubscribe } from '../../shared/bus/types.js'
import type { Repositories, WebhookDeliveryRecord, WebhookRecord } from '../../shared/db/types.js'
import type { EventMessage } from '../../shared/events.js'
import { iso } from '../../shared/presenters.js'
import { randomHex } from '../../shared/random.js'

export interface WebhookDispatcherDeps {
  repos: Repositories
  events: EventSubscriber
  logger: Logger
  now: () => number
  /** Called after deliveries were queued, so they go out without waiting for the next poll. */
  queued: () => void
}

const wants = (webhook: WebhookRecord, message: EventMessage) =>
  webhook.active &&
  (webhook.sessionId === null || webhook.sessionId === message.payload.sessionId) &&
  (webhook.events.includes('*') || webhook.events.includes(message.event))

/**
 * Turns events into queued deliveries, one per matching webhook. Each event reaches exactly one
 * connector's listeners (its own events, and the API's through the cluster relay), so it is
 * queued once cluster-wide. Events of one moment are written in one statement.
 */
export class WebhookDispatcher {
  private pending: { message: EventMessage; at: number }[] = []
  private flushing: Promise<void> | null = null
  private unsubscribe: Unsubscribe | null = null

  constructor(private readonly deps: WebhookDispatcherDeps) {}

  start(): void {
    this.unsubscribe ??= this.deps.events.subscribe((message) => {
      this.pending.push({ message, at: this.deps.now() })
      this.flushing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flush())
    })
  }

  /** Stops listening and writes what was already heard. */
  async stop(): Promise<void> {
    this.unsubscribe?.()
    this.unsubscribe = null
    await this.flushing
  }

  private async flush(): Promise<void> {
    const batch = this.pending
    this.pending = []
    try {
      const webhooks = await this.deps.repos.webhooks.all()
      const deliveries: WebhookDeliveryRecord[] = []
      for (const { message, at } of batch) {
        for (const webhook of webhooks) {
          if (!wants(webhook, message)) continue
          const id = `whd_${randomHex(8)}`
          deliveries.push({
            id,
            webhookId: webhook.id,
            sessionId: message.payload.sessionId,
            event: message.event,
            // `id` stays the first delivery's on redelivery: receivers dedupe on it.
            body: JSON.stringify({
              id,
              event: message.event,
              webhookId: webhook.id,
              sessionId: message.payload.sessionId,
              createdAt: iso(at),
              data: message.payload,
            }),
            state: 'pending',
            attempts: 0,
            nextAttemptAt: at,
            leaseUntil: null,
            lastAttemptAt: null,
            responseStatus: null,
            lastError: null,
            redeliveryOf: null,
            createdAt: at,
            deliveredAt: null,
          })
        }
      }
      if (deliveries.length) {
        await this.deps.repos.webhooks.insertDeliveries(deliveries)
        this.deps.queued()
      }
    } catch (error) {
      this.deps.logger.warn({ err: error, events: batch.length }, 'webhook deliveries could not be queued')
    } finally {
      this.flushing = null
      if (this.pending.length) {
        this.flushing = this.flush()
      }
    }
  }
}
